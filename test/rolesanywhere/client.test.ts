import t from 'tap';
import { createSession } from '../../src/rolesanywhere/client.js';
import { buildCreateSessionRequest } from '../../src/rolesanywhere/request.js';
import type { HttpRequest, HttpResponse, HttpSend } from '../../src/rolesanywhere/http.js';
import { SignerError as SignerErrorClass, type SignerError } from '../../src/errors.js';

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

/** A clock that only moves when the test says: each send takes `sendMs`, each pause its length. */
async function runTimed(answers: Array<HttpResponse | Error>, options: { sendMs: number; maxAttempts: number; deadlineMs: number }) {
  let clock = 0;
  const { send: scriptedSend, sent } = scripted(answers);
  const lines: string[] = [];
  const sleeps: number[] = [];
  const outcome = await createSession({
    request,
    send: async (req) => {
      clock += options.sendMs;
      return scriptedSend(req);
    },
    sign: async () => ({ authorization: 'sig' }),
    debug: (line) => lines.push(line),
    maxAttempts: options.maxAttempts,
    deadlineMs: options.deadlineMs,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
  }).then(
    (value) => ({ value }),
    (error: SignerError) => ({ error }),
  );
  return { outcome, sent, lines, sleeps, elapsed: () => clock };
}

t.test('the deadline covers the whole call: later attempts get what is left, none starts without time', async (t) => {
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  const { outcome, sent, lines } = await runTimed([reset, reset, reset, reset, reset], { sendMs: 9000, maxAttempts: 5, deadlineMs: 20_000 });
  t.equal(sent.length, 3, 'the fourth attempt would start after the deadline');
  t.same(lines.filter((line) => line.startsWith('POST')), [
    'POST http://127.0.0.1:9/sessions (attempt 1 of 5, 10 s at most)',
    'POST http://127.0.0.1:9/sessions (attempt 2 of 5, 10 s at most)',
    'POST http://127.0.0.1:9/sessions (attempt 3 of 5, 2 s at most)',
  ]);
  t.ok(lines.includes('not retrying: the 20 s deadline (--timeout) leaves no time for another attempt'));
  t.match(outcome, { error: { code: 'NETWORK_ERROR', message: 'cannot reach http://127.0.0.1:9/sessions (ECONNRESET): check --endpoint, the network and any proxy settings' } });
});

t.test('an attempt cut short by the deadline says so and is the last', async (t) => {
  const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
  const { outcome, sent } = await runTimed([new Error('first'), timeout, json(201, okBody)], { sendMs: 3000, maxAttempts: 3, deadlineMs: 5000 });
  t.equal(sent.length, 2);
  t.match(outcome, { error: { code: 'NETWORK_ERROR', message: 'no answer from http://127.0.0.1:9/sessions within the 5 s deadline (--timeout): check --endpoint and your network or proxy' } });
});

t.test('a throttled endpoint is retried only while the deadline allows', async (t) => {
  const { outcome, sent, sleeps } = await runTimed([json(429, { message: 'slow' }), json(429, { message: 'slow' }), json(201, okBody)], { sendMs: 1000, maxAttempts: 3, deadlineMs: 1200 });
  t.equal(sent.length, 1, 'a pause and a second attempt would not fit in 1.2 s');
  t.same(sleeps, []);
  t.match(outcome, { error: { code: 'CREATE_SESSION_THROTTLED' } });
});

t.test('what cannot pass on a retry is tried once: proxy refusals, untrusted certificates, oversized answers', async (t) => {
  const cases: ReadonlyArray<readonly [string, Error, string]> = [
    ['407', new SignerErrorClass('PROXY_AUTH_REQUIRED', 'the proxy ... requires authentication'), 'PROXY_AUTH_REQUIRED'],
    ['502 tunnel', new SignerErrorClass('PROXY_TUNNEL_FAILED', 'the proxy ... refused the tunnel'), 'PROXY_TUNNEL_FAILED'],
    ['proxy down', new SignerErrorClass('PROXY_UNREACHABLE', 'cannot connect to the proxy'), 'PROXY_UNREACHABLE'],
    ['too large', new SignerErrorClass('RESPONSE_TOO_LARGE', 'more than 1 MiB'), 'RESPONSE_TOO_LARGE'],
    ['untrusted', Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'TLS_UNTRUSTED'],
    ['wrong name', Object.assign(new Error('altname'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'TLS_UNTRUSTED'],
  ];
  for (const [name, failure, code] of cases) {
    const { outcome, sent } = await run([failure, json(201, okBody)]);
    t.equal(sent.length, 1, `${name}: one attempt`);
    t.match(outcome, { error: { code } }, name);
  }
  const { outcome } = await run([Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })]);
  t.equal('error' in outcome && outcome.error.message, "the TLS certificate of http://127.0.0.1:9/sessions is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): fix the endpoint's certificate or add its CA (behind a TLS-inspecting proxy: your company's CA) with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS (--no-verify-ssl skips the check, for tests only)");
});
