import t from 'tap';
import { createSession } from '../../src/rolesanywhere/client.js';
import { buildCreateSessionRequest } from '../../src/rolesanywhere/request.js';
import type { HttpRequest, HttpResponse, HttpSend } from '../../src/rolesanywhere/http.js';
import type { SignerError } from '../../src/errors.js';

const request = buildCreateSessionRequest(
  { url: new URL('http://127.0.0.1:9/'), region: 'us-east-1' },
  {
    trustAnchorArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a',
    profileArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p',
    roleArn: 'arn:aws:iam::123456789012:role/r',
    durationSeconds: 3600,
  },
);

const okBody = JSON.stringify({
  credentialSet: [{ credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'sek', sessionToken: 'tok', expiration: '2030-01-02T03:04:05Z' } }],
});

/** Answers from a script, one per attempt, and records what was sent. */
function scripted(answers: Array<HttpResponse | Error>): { send: HttpSend; sent: HttpRequest[] } {
  const sent: HttpRequest[] = [];
  return {
    sent,
    send: async (req) => {
      sent.push(req);
      const next = answers.shift();
      if (next === undefined) throw new Error('script exhausted');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

async function run(answers: Array<HttpResponse | Error>, maxAttempts = 3) {
  const { send, sent } = scripted(answers);
  let signs = 0;
  const sleeps: number[] = [];
  const outcome = await createSession({
    request,
    send,
    sign: async () => ({ authorization: `sig-${++signs}` }),
    debug: () => {},
    maxAttempts,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  }).then(
    (value) => ({ value }),
    (error: SignerError) => ({ error }),
  );
  return { outcome, sent, signs, sleeps };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

t.test('201 yields credentials; the request is sent as built', async (t) => {
  const { outcome, sent } = await run([json(201, okBody)]);
  t.same('value' in outcome && outcome.value, { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'sek', sessionToken: 'tok', expiration: new Date('2030-01-02T03:04:05Z') });
  t.equal(sent.length, 1);
  t.equal(sent[0]?.url.href, 'http://127.0.0.1:9/sessions?profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2Fp&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Atrust-anchor%2Fa');
  t.equal(sent[0]?.body, '{"durationSeconds":3600}');
});

t.test('retries 429, 5xx and network errors with a fresh signature, then succeeds', async (t) => {
  const { outcome, sent, signs, sleeps } = await run([json(429, { message: 'slow down' }), new TypeError('fetch failed'), json(201, okBody)]);
  t.ok('value' in outcome);
  t.equal(sent.length, 3);
  t.equal(signs, 3, 'each attempt is signed anew (fresh X-Amz-Date)');
  t.same(sent.map((s) => s.headers['authorization']), ['sig-1', 'sig-2', 'sig-3']);
  t.same(sleeps, [100, 200], 'full jitter over 200 ms, 400 ms');
});

t.test('does not retry 400/403/404', async (t) => {
  for (const status of [400, 403, 404]) {
    const { sent } = await run([json(status, { message: 'no' }), json(201, okBody)]);
    t.equal(sent.length, 1, `status ${status} is final`);
  }
});

const cases: Array<[string, HttpResponse, string, string]> = [
  ['403 with the service message', json(403, { message: 'Untrusted Signing Certificate' }, { 'x-amzn-errortype': 'AccessDeniedException:http://internal' }), 'CREATE_SESSION_DENIED', 'CreateSession denied (403 AccessDeniedException): Untrusted Signing Certificate'],
  ['400 validation', json(400, { message: 'durationSeconds out of range' }, { 'x-amzn-errortype': 'ValidationException' }), 'CREATE_SESSION_INVALID_REQUEST', 'CreateSession failed (400 ValidationException): durationSeconds out of range'],
  ['404 with __type only', json(404, { __type: 'com.amazon#ResourceNotFoundException', message: 'Profile not found' }), 'CREATE_SESSION_NOT_FOUND', 'CreateSession failed (404 ResourceNotFoundException): Profile not found'],
  ['500 garbage', json(500, '<html>oops</html>'), 'CREATE_SESSION_SERVER_ERROR', 'CreateSession failed (500): http://127.0.0.1:9/sessions answered without an error message'],
  ['201 garbage', json(201, 'not json'), 'CREATE_SESSION_BAD_RESPONSE', 'http://127.0.0.1:9/sessions answered 201 but the body is not JSON: check that --endpoint points at IAM Roles Anywhere'],
  ['201 without credentials', json(201, { credentialSet: [] }), 'CREATE_SESSION_BAD_RESPONSE', 'http://127.0.0.1:9/sessions answered 201 but without a credentialSet: check that --endpoint points at IAM Roles Anywhere'],
  ['201 bad expiration', json(201, { credentialSet: [{ credentials: { accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c', expiration: 'soon' } }] }), 'CREATE_SESSION_BAD_RESPONSE', 'http://127.0.0.1:9/sessions answered 201 but with an expiration that is not an ISO-8601 UTC date (YYYY-MM-DDThh:mm:ssZ): check that --endpoint points at IAM Roles Anywhere'],
];

for (const [name, response, code, message] of cases) {
  t.test(name, async (t) => {
    const { outcome } = await run([response, response, response]);
    t.ok('error' in outcome);
    if ('error' in outcome) {
      t.equal(outcome.error.code, code);
      t.equal(outcome.error.message, message);
    }
  });
}

t.test('network failures name the cause; timeouts say so', async (t) => {
  const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  const { outcome, sent } = await run([refused, refused, refused]);
  t.equal(sent.length, 3);
  t.equal('error' in outcome && outcome.error.message, 'cannot reach http://127.0.0.1:9/sessions (ECONNREFUSED): check --endpoint, the network and any proxy settings');
  const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
  const timed = await run([timeout], 1);
  t.equal('error' in timed.outcome && timed.outcome.error.message, 'no answer from http://127.0.0.1:9/sessions within 10 s: check --endpoint and your network or proxy');
});
