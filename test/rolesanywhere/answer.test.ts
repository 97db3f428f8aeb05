import t from 'tap';
import { parseCreateSessionAnswer } from '../../src/rolesanywhere/answer.js';
import type { SignerError } from '../../src/errors.js';

const now = new Date('2026-06-01T12:00:00Z');
const target = 'https://rolesanywhere.us-east-1.amazonaws.com/sessions';
const good = { accessKeyId: 'ASIAEXAMPLEEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY', sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDE', expiration: '2026-06-01T13:00:00Z' };
const answer = (credentials: unknown) => JSON.stringify({ credentialSet: [{ credentials }], subjectArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:subject/x' });

function failure(body: string): string {
  try {
    parseCreateSessionAnswer(body, { target, now });
  } catch (error) {
    return `${(error as SignerError).code}: ${(error as Error).message}`;
  }
  return 'accepted';
}

const endpointHint = 'check that --endpoint points at IAM Roles Anywhere';
const bad = (why: string, hint = endpointHint) => `CREATE_SESSION_BAD_RESPONSE: ${target} answered 201 but ${why}: ${hint}`;
const notIso = bad('with an expiration that is not an ISO-8601 UTC date (YYYY-MM-DDThh:mm:ssZ)');

t.test('a well-formed answer yields the credentials', async (t) => {
  t.same(parseCreateSessionAnswer(answer(good), { target, now }), { ...good, expiration: new Date('2026-06-01T13:00:00Z') });
  t.same(parseCreateSessionAnswer(answer({ ...good, expiration: '2026-06-01T13:00:00.123+00:00' }), { target, now }).expiration, new Date('2026-06-01T13:00:00.123Z'));
});

t.test('shapes that are not a CreateSession answer', async (t) => {
  const cases: Array<[string, string]> = [
    ['not json', bad('the body is not JSON')],
    ['null', bad('the body is not a JSON object')],
    ['[]', bad('the body is not a JSON object')],
    ['"x"', bad('the body is not a JSON object')],
    ['{}', bad('without a credentialSet')],
    ['{"credentialSet":{}}', bad('without a credentialSet')],
    ['{"credentialSet":[]}', bad('without a credentialSet')],
    ['{"credentialSet":[null]}', bad('with a credentialSet entry that is not an object')],
    ['{"credentialSet":[7]}', bad('with a credentialSet entry that is not an object')],
    ['{"credentialSet":[{}]}', bad('without credentials')],
    ['{"credentialSet":[{"credentials":null}]}', bad('without credentials')],
    ['{"credentialSet":[{"credentials":[]}]}', bad('without credentials')],
  ];
  for (const [body, expected] of cases) t.equal(failure(body), expected, body);
});

t.test('credential values must be present, printable ASCII and bounded (never quoted)', async (t) => {
  t.equal(failure(answer({ ...good, accessKeyId: undefined })), bad('without an accessKeyId'));
  t.equal(failure(answer({ ...good, secretAccessKey: 42 })), bad('without a secretAccessKey'));
  t.equal(failure(answer({ ...good, sessionToken: '' })), bad('without a sessionToken'));
  const smuggled = failure(answer({ ...good, accessKeyId: 'ASIA\r\nX-Evil: 1' }));
  t.equal(smuggled, bad('with an accessKeyId that is not printable ASCII of at most 128 characters'));
  t.equal(failure(answer({ ...good, sessionToken: 'tok\nen' })), bad('with a sessionToken that is not printable ASCII of at most 65536 characters'));
  t.equal(failure(answer({ ...good, secretAccessKey: 'has space' })), bad('with a secretAccessKey that is not printable ASCII of at most 1024 characters'));
  t.equal(failure(answer({ ...good, sessionToken: 'x'.repeat(65_537) })), bad('with a sessionToken that is not printable ASCII of at most 65536 characters'));
  t.notMatch(failure(answer({ ...good, secretAccessKey: 'secret\u001b' })), /secret\u001b/);
});

t.test('expirations: ISO-8601 UTC, real dates, at least 5 minutes ahead', async (t) => {
  for (const expiration of ['1', '-000001-01-01T00:00:00Z', '2026-06-01 13:00:00Z', '2026-06-01T13:00:00', '2026-06-01T15:00:00+02:00', '2026-02-30T13:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01T13:60:00Z', 'Mon, 01 Jun 2026 13:00:00 GMT', '']) {
    t.equal(failure(answer({ ...good, expiration })), notIso, expiration);
  }
  t.equal(failure(answer({ ...good, expiration: 1780000000 })), bad('without an expiration'));
  const clockHint = "check this machine's clock and that --endpoint points at IAM Roles Anywhere";
  t.equal(failure(answer({ ...good, expiration: '2020-01-01T00:00:00Z' })), bad('with credentials that expire at 2020-01-01T00:00:00.000Z, already past (this machine says 2026-06-01T12:00:00.000Z)', clockHint));
  t.equal(failure(answer({ ...good, expiration: '2026-06-01T12:00:30Z' })), bad('with credentials that expire at 2026-06-01T12:00:30.000Z, less than 5 minutes from now (this machine says 2026-06-01T12:00:00.000Z)', clockHint));
  t.equal(failure(answer({ ...good, expiration: '2026-06-01T12:05:00Z' })), 'accepted', 'exactly 5 minutes is enough');
});
