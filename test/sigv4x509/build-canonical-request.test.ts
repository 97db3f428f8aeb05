import { createHash } from 'node:crypto';
import t from 'tap';
import { HttpRequest } from '@smithy/protocol-http';
import { getCanonicalHeaders } from '@smithy/signature-v4';
import { buildCanonicalRequest } from '../../src/sigv4x509/build-canonical-request.js';
import { buildCredentialScope } from '../../src/sigv4x509/build-credential-scope.js';
import { buildStringToSign } from '../../src/sigv4x509/build-string-to-sign.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

t.test('canonical request: sorted headers, trimall, authorization and user-agent left out', async (t) => {
  const { canonicalRequest, signedHeaders } = buildCanonicalRequest({
    method: 'post',
    path: '/sessions',
    query: [['b', '2'], ['a', '1']],
    headers: {
      'x-amz-date': '20250102T030405Z',
      host: 'example.test:8443',
      'x-spaces': '  one   two  three ',
      'x-tab': 'a\tb',
      authorization: 'must not appear',
      'user-agent': 'must not appear either',
    },
    body: '{"durationSeconds":3600,"note":"na\u00efve"}',
  });
  t.equal(signedHeaders, 'host;x-amz-date;x-spaces;x-tab');
  t.equal(
    canonicalRequest,
    [
      'POST',
      '/sessions',
      'a=1&b=2',
      'host:example.test:8443',
      'x-amz-date:20250102T030405Z',
      'x-spaces:one two three',
      'x-tab:a b',
      '',
      'host;x-amz-date;x-spaces;x-tab',
      sha256('{"durationSeconds":3600,"note":"na\u00efve"}'),
    ].join('\n'),
  );
});

t.test('an empty body hashes to the SHA-256 of nothing', async (t) => {
  const { canonicalRequest } = buildCanonicalRequest({ method: 'GET', path: '/', query: [], headers: { host: 'h' }, body: '' });
  t.equal(canonicalRequest, 'GET\n/\n\nhost:h\n\nhost\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

t.test('string to sign and credential scope', async (t) => {
  const scope = buildCredentialScope('20250102T030405Z', 'us-east-1', 'rolesanywhere');
  t.equal(scope, '20250102/us-east-1/rolesanywhere/aws4_request');
  t.equal(
    buildStringToSign('AWS4-X509-ECDSA-SHA256', '20250102T030405Z', scope, 'canonical'),
    `AWS4-X509-ECDSA-SHA256\n20250102T030405Z\n20250102/us-east-1/rolesanywhere/aws4_request\n${sha256('canonical')}`,
  );
});

t.test('header whitespace is canonicalized as smithy (and so the emulator) does: tabs collapse like spaces', async (t) => {
  const values: Record<string, string> = {
    'x-tab': 'a\tb',
    'x-tabs-and-spaces': ' \t a \t\t b \t',
    'x-leading-tab': '\tvalue',
    'x-plain': 'MIIB+base64/=',
  };
  const { canonicalRequest } = buildCanonicalRequest({ method: 'POST', path: '/', query: [], headers: values, body: '' });
  const ours = canonicalRequest.split('\n').slice(3, 3 + Object.keys(values).length);
  t.same(ours, ['x-leading-tab:value', 'x-plain:MIIB+base64/=', 'x-tab:a b', 'x-tabs-and-spaces:a b']);
  const smithy = getCanonicalHeaders(new HttpRequest({ method: 'POST', hostname: 'h', path: '/', headers: values }));
  t.same(ours, Object.keys(smithy).sort().map((name) => `${name}:${smithy[name] ?? ''}`), 'the same lines as @smithy/signature-v4');
});
