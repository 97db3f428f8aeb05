import t from 'tap';
import { parseArn } from '../../src/rolesanywhere/arn.js';
import { resolveEndpoint } from '../../src/rolesanywhere/endpoint.js';
import { buildCreateSessionRequest } from '../../src/rolesanywhere/request.js';
import { buildCanonicalRequest } from '../../src/sigv4x509/build-canonical-request.js';

const trustAnchor = parseArn('arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/00000000-0000-4000-8000-0000000000aa', 'trust-anchor');
const profile = parseArn('arn:aws:rolesanywhere:eu-west-1:123456789012:profile/00000000-0000-4000-8000-0000000000bb', 'profile');
const parameters = {
  trustAnchorArn: trustAnchor.arn,
  profileArn: profile.arn,
  roleArn: 'arn:aws:iam::123456789012:role/r',
  durationSeconds: 3600,
};

t.test('an --endpoint with a path prefix: /sessions goes under it, on the wire and in what is signed', async (t) => {
  for (const endpoint of ['https://gateway.example.test:8443/roles-anywhere/v1', 'https://gateway.example.test:8443/roles-anywhere/v1/']) {
    const request = buildCreateSessionRequest(resolveEndpoint({ endpoint, trustAnchor, profile }), parameters);
    t.equal(request.path, '/roles-anywhere/v1/sessions', `${endpoint}: path`);
    t.equal(request.host, 'gateway.example.test:8443', `${endpoint}: Host keeps the port`);
    t.equal(
      request.url.href,
      'https://gateway.example.test:8443/roles-anywhere/v1/sessions?profileArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A123456789012%3Aprofile%2F00000000-0000-4000-8000-0000000000bb&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A123456789012%3Atrust-anchor%2F00000000-0000-4000-8000-0000000000aa',
      `${endpoint}: URL sent`,
    );
    const { canonicalRequest } = buildCanonicalRequest({ method: request.method, path: request.path, query: request.query, headers: { host: request.host }, body: request.body });
    t.equal(canonicalRequest.split('\n')[1], '/roles-anywhere/v1/sessions', `${endpoint}: canonical URI signs the prefixed path`);
  }
});

t.test('an --endpoint without a path: /sessions at the root', async (t) => {
  const request = buildCreateSessionRequest(resolveEndpoint({ endpoint: 'http://127.0.0.1:9000', trustAnchor, profile }), parameters);
  t.equal(request.path, '/sessions');
  t.equal(request.body, '{"durationSeconds":3600}');
});
