import t from 'tap';
import { createContainerHandler, CONTAINER_PATH } from '../../src/serve/container.js';
import { createAuthorizationCheck, fixedTokenDigest } from '../../src/serve/authorization.js';
import type { CredentialsSnapshot } from '../../src/credentials/refresher.js';
import type { ServeRequest } from '../../src/serve/types.js';
import { SignerError } from '../../src/errors.js';
import { asText } from './answer-text.js';

const snapshot: CredentialsSnapshot = {
  credentials: { accessKeyId: 'ASIAEXAMPLE000000001', secretAccessKey: 'sk', sessionToken: 'st', expiration: new Date('2030-01-01T01:00:00.750Z') },
  obtainedAt: new Date('2030-01-01T00:00:00Z'),
};

function setup(credentials: () => Promise<CredentialsSnapshot> = async () => snapshot) {
  const handler = createContainerHandler({
    path: CONTAINER_PATH,
    authorize: createAuthorizationCheck(fixedTokenDigest(Buffer.from('the-right-token'))),
    credentials,
    roleArn: 'arn:aws:iam::123456789012:role/app-role',
    accountId: '123456789012',
  });
  return (method: string, url: string, headers: ServeRequest['headers'] = {}) => asText(handler({ method, url, headers }));
}

t.test('the right token gets the credentials document the SDKs read', async (t) => {
  const call = setup();
  const response = await call('GET', '/v1/credentials', { authorization: 'the-right-token' });
  t.equal(response.status, 200);
  t.same(JSON.parse(response.body), {
    AccessKeyId: 'ASIAEXAMPLE000000001',
    SecretAccessKey: 'sk',
    Token: 'st',
    Expiration: '2030-01-01T01:00:00Z',
    AccountId: '123456789012',
    RoleArn: 'arn:aws:iam::123456789012:role/app-role',
  });
});

t.test('a missing or wrong token is refused with 401 and the token is not echoed', async (t) => {
  const call = setup();
  const missing = await call('GET', '/v1/credentials');
  t.equal(missing.status, 401);
  t.same(JSON.parse(missing.body), { code: 'Unauthorized', message: 'missing Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE' });
  for (const wrong of ['the-wrong-token', 'the-right-toke', 'the-right-tokenX', 'Bearer the-right-token']) {
    const response = await call('GET', '/v1/credentials', { authorization: wrong });
    t.equal(response.status, 401, wrong);
    t.notMatch(response.body, wrong);
    t.same(JSON.parse(response.body), { code: 'Unauthorized', message: "the Authorization token does not match this endpoint's token" });
  }
});

t.test('other paths, methods and forwarded requests are refused', async (t) => {
  const call = setup();
  t.equal((await call('GET', '/credentials', { authorization: 'the-right-token' })).status, 404);
  t.equal((await call('POST', '/v1/credentials', { authorization: 'the-right-token' })).status, 405);
  const forwarded = await call('GET', '/v1/credentials', { authorization: 'the-right-token', 'x-forwarded-for': '10.0.0.1' });
  t.equal(forwarded.status, 400);
  t.same(JSON.parse(forwarded.body), { code: 'BadRequest', message: 'requests with an X-Forwarded-For header are refused' });
});

t.test('no valid credentials: 500 with a JSON error', async (t) => {
  const call = setup(async () => {
    throw new SignerError('CREDENTIALS_UNAVAILABLE', 'no valid credentials: no refresh has succeeded yet; next attempt in 0 s');
  });
  const response = await call('GET', '/v1/credentials', { authorization: 'the-right-token' });
  t.equal(response.status, 500);
  t.same(JSON.parse(response.body), { code: 'CredentialsUnavailable', message: 'no valid credentials: no refresh has succeeded yet; next attempt in 0 s' });
});

t.test('errors that are not SignerErrors are not shown to clients', async (t) => {
  const call = setup(async () => {
    throw new Error('internal detail /home/user/secret');
  });
  const response = await call('GET', '/v1/credentials', { authorization: 'the-right-token' });
  t.equal(response.status, 500);
  t.same(JSON.parse(response.body), { code: 'CredentialsUnavailable', message: 'no valid credentials: an unexpected error occurred; see the server log' });
});
