import t from 'tap';
import { createImdsHandler } from '../../src/serve/imds.js';
import { createTokenStore } from '../../src/serve/token-store.js';
import type { CredentialsSnapshot } from '../../src/credentials/refresher.js';
import type { ServeRequest } from '../../src/serve/types.js';
import { SignerError } from '../../src/errors.js';
import { asText } from './answer-text.js';

const NOW = Date.parse('2030-01-01T00:00:00.250Z');
const snapshot: CredentialsSnapshot = {
  credentials: { accessKeyId: 'ASIAEXAMPLE000000001', secretAccessKey: 'sk/+example', sessionToken: 'token+example/=', expiration: new Date('2030-01-01T01:00:00.750Z') },
  obtainedAt: new Date('2029-12-31T23:59:58.999Z'),
};

function setup(credentials: () => Promise<CredentialsSnapshot> = async () => snapshot) {
  let now = NOW;
  const tokens = createTokenStore({ now: () => now });
  const handler = createImdsHandler({ tokens, credentials, roleName: 'app-role', accountId: '123456789012' });
  const call = (method: string, url: string, headers: ServeRequest['headers'] = {}) => asText(handler({ method, url, headers }));
  const token = async (ttl = '21600') => (await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': ttl })).body;
  return { call, token, advance: (ms: number) => (now += ms) };
}

t.test('token, role name, credentials: the IMDSv2 sequence the SDKs use', async (t) => {
  const { call, token } = setup();
  const put = await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '300' });
  t.equal(put.status, 200);
  t.equal(put.headers['x-aws-ec2-metadata-token-ttl-seconds'], '300');
  const headers = { 'x-aws-ec2-metadata-token': put.body };
  const role = await call('GET', '/latest/meta-data/iam/security-credentials/', headers);
  t.equal(role.status, 200);
  t.equal(role.body, 'app-role');
  t.equal(role.headers['x-aws-ec2-metadata-token-ttl-seconds'], '300');
  const creds = await call('GET', '/latest/meta-data/iam/security-credentials/app-role', headers);
  t.equal(creds.status, 200);
  t.equal(creds.headers['content-type'], 'application/json');
  t.same(JSON.parse(creds.body), {
    Code: 'Success',
    LastUpdated: '2029-12-31T23:59:58Z',
    Type: 'AWS-HMAC',
    AccessKeyId: 'ASIAEXAMPLE000000001',
    SecretAccessKey: 'sk/+example',
    Token: 'token+example/=',
    Expiration: '2030-01-01T01:00:00Z',
  });
  t.match(creds.body, /"Expiration": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/, 'no fractional seconds (botocore parses %Y-%m-%dT%H:%M:%SZ)');
  t.equal((await call('GET', '/latest/meta-data/iam/security-credentials', { 'x-aws-ec2-metadata-token': await token() })).body, 'app-role', 'without the trailing slash too');
  t.equal((await call('GET', '/latest/meta-data/iam/security-credentials/app-role/', headers)).status, 200);
});

t.test('the extended tree is answered, with the account ID', async (t) => {
  const { call, token } = setup();
  const headers = { 'x-aws-ec2-metadata-token': await token() };
  t.equal((await call('GET', '/latest/meta-data/iam/security-credentials-extended/', headers)).body, 'app-role');
  const creds = await call('GET', '/latest/meta-data/iam/security-credentials-extended/app-role', headers);
  t.equal(creds.status, 200);
  t.equal(JSON.parse(creds.body).AccountId, '123456789012');
  t.equal(JSON.parse((await call('GET', '/latest/meta-data/iam/security-credentials/app-role', headers)).body).AccountId, undefined, 'the classic tree has no AccountId');
});

t.test('a token request with X-Forwarded-For is refused with 400', async (t) => {
  const { call } = setup();
  const put = await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '203.0.113.9' });
  t.equal(put.status, 400);
  t.equal(put.body, 'Bad Request: requests with an X-Forwarded-For header are refused');
});

t.test('token TTLs outside 1..21600 (or missing) are refused with 400', async (t) => {
  const { call } = setup();
  for (const ttl of ['0', '21601', '-5', 'abc', '1.5', '']) {
    const put = await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': ttl });
    t.equal(put.status, 400, `ttl ${JSON.stringify(ttl)}`);
  }
  const missing = await call('PUT', '/latest/api/token');
  t.equal(missing.status, 400);
  t.equal(missing.body, 'Bad Request: send x-aws-ec2-metadata-token-ttl-seconds with a whole number of seconds from 1 to 21600');
  t.equal((await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).body, 'Bad Request: x-aws-ec2-metadata-token-ttl-seconds must be from 1 to 21600');
  t.equal((await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '1' })).status, 200);
  t.equal((await call('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' })).status, 200);
});

t.test('missing, unknown and expired tokens get 401 (IMDSv1 is off)', async (t) => {
  const { call, token, advance } = setup();
  const path = '/latest/meta-data/iam/security-credentials/app-role';
  const none = await call('GET', path);
  t.equal(none.status, 401);
  t.equal(none.body, 'Unauthorized: request a token with PUT /latest/api/token and send it in X-aws-ec2-metadata-token');
  const unknown = await call('GET', path, { 'x-aws-ec2-metadata-token': 'A'.repeat(64) });
  t.equal(unknown.status, 401);
  t.equal(unknown.body, 'Unauthorized: the session token is unknown or expired');
  const short = await token('2');
  advance(2000);
  t.equal((await call('GET', path, { 'x-aws-ec2-metadata-token': short })).status, 401, 'expired');
  t.equal((await call('GET', '/latest/meta-data/iam/security-credentials/', {})).status, 401, 'role listing needs a token too');
});

t.test('unknown roles and paths are 404; wrong methods 405', async (t) => {
  const { call, token } = setup();
  const headers = { 'x-aws-ec2-metadata-token': await token() };
  t.equal((await call('GET', '/latest/meta-data/iam/security-credentials/other-role', headers)).status, 404);
  t.equal((await call('GET', '/latest/meta-data/instance-id', headers)).status, 404);
  t.equal((await call('GET', '/', headers)).status, 404);
  t.equal((await call('GET', '/latest/api/token')).status, 405);
  t.equal((await call('POST', '/latest/meta-data/iam/security-credentials/', headers)).status, 405);
});

t.test('no valid credentials: 500 with a JSON error, never empty credentials', async (t) => {
  const { call, token } = setup(async () => {
    throw new SignerError('CREDENTIALS_UNAVAILABLE', 'no valid credentials: the last refresh failed: CreateSession failed (503): down; next attempt in 10 s');
  });
  const response = await call('GET', '/latest/meta-data/iam/security-credentials/app-role', { 'x-aws-ec2-metadata-token': await token() });
  t.equal(response.status, 500);
  t.same(JSON.parse(response.body), { Code: 'CredentialsUnavailable', Message: 'no valid credentials: the last refresh failed: CreateSession failed (503): down; next attempt in 10 s' });
});

t.test('a flood of token requests leaves every issued token good', async (t) => {
  const { call, token } = setup();
  const first = await token('60');
  for (let i = 0; i < 5000; i++) await token('21600');
  const role = await call('GET', '/latest/meta-data/iam/security-credentials/', { 'x-aws-ec2-metadata-token': first });
  t.equal(role.status, 200, 'the first token still works after 5,000 more were issued');
});

t.test('the credentials body is built once per set of credentials, not per request', async (t) => {
  const { renderedOncePerCredentials } = await import('../../src/serve/types.js');
  let renders = 0;
  const body = renderedOncePerCredentials((s) => `${++renders}:${s.credentials.accessKeyId}`);
  t.equal(body(snapshot), '1:ASIAEXAMPLE000000001');
  t.equal(body({ ...snapshot }), '1:ASIAEXAMPLE000000001', 'a new snapshot of the same credentials reuses the body');
  const next = { credentials: { ...snapshot.credentials, accessKeyId: 'ASIAEXAMPLE000000002' }, obtainedAt: new Date(NOW) };
  t.equal(body(next), '2:ASIAEXAMPLE000000002', 'new credentials: built again');
  t.equal(body(next), '2:ASIAEXAMPLE000000002');
  t.equal(renders, 2);
});
