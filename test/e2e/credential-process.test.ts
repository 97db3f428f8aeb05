import t, { type Test } from 'tap';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { runCli, run, isolatedEnv } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';
import { verifyIndependently } from '../helpers/independent-verify.js';

const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"(ASIA[A-Z0-9]{16})","SecretAccessKey":"([^"]+)","SessionToken":"([^"]+)","Expiration":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"\}$/;

let rig: Rig;
t.before(async () => {
  rig = await startRig();
});
t.teardown(async () => {
  await rig.close();
});

/** A failed run: non-zero exit, nothing on stdout, exactly one line on stderr, no stack trace. */
function assertCleanFailure(t: Test, result: { code: number | null; stdout: string; stderr: string }, expectedLine: string | RegExp) {
  t.not(result.code, 0, 'exit code is non-zero');
  t.equal(result.stdout, '', 'stdout is empty');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  t.equal(lines.length, 1, `one line on stderr: ${result.stderr}`);
  if (typeof expectedLine === 'string') t.equal(lines[0], expectedLine);
  else t.match(lines[0] ?? '', expectedLine);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

for (const keyAlgorithm of ['EC-P256', 'EC-P384', 'RSA-2048'] as const) {
  t.test(`credential-process with a ${keyAlgorithm} key file gets credentials from the emulator`, async (t) => {
    const id = await rig.issueFileIdentity(`client-${keyAlgorithm.toLowerCase()}`, keyAlgorithm);
    const before = rig.stats.createSession;
    const result = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags]);
    t.equal(result.stderr, '');
    t.equal(result.code, 0);
    t.match(result.stdout, PROCESS_JSON);
    t.equal(rig.stats.createSession, before + 1, 'exactly one CreateSession');
    const expiration = new Date(PROCESS_JSON.exec(result.stdout)?.[4] ?? '');
    t.ok(Math.abs(expiration.getTime() - Date.now() - 3600_000) < 120_000, 'expires in about an hour');
  });
}

t.test('the aws CLI uses credential-process through ~/.aws/config and STS accepts the credentials', async (t) => {
  const id = await rig.issueFileIdentity('aws-cli-user');
  const config = join(rig.dir, 'aws-config');
  const command = [process.execPath, cliPath, 'credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags]
    .map((part) => `"${part}"`)
    .join(' ');
  await writeFile(config, `[profile e2e]\nregion = us-east-1\ncredential_process = ${command}\n`);
  const result = await run('aws', ['sts', 'get-caller-identity', '--profile', 'e2e', '--endpoint-url', rig.url, '--output', 'json'], {
    env: isolatedEnv({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'no-credentials') }),
  });
  t.equal(result.code, 0, result.stderr);
  const identity = JSON.parse(result.stdout) as { Account: string; Arn: string; UserId: string };
  t.equal(identity.Account, '123456789012');
  t.match(identity.Arn, /^arn:aws:sts::123456789012:assumed-role\/e2e-role\/.+/);
});

/** A port nothing listens on: bound once by us, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** An endpoint that records the request and answers like CreateSession, for replaying it. */
async function captureOneRequest(): Promise<{ url: string; request: Promise<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>; close(): void }> {
  let resolveRequest: (value: { method: string; path: string; headers: IncomingMessage['headers']; body: string }) => void = () => {};
  const request = new Promise<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>((resolve) => (resolveRequest = resolve));
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    resolveRequest({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ credentialSet: [{ credentials: { accessKeyId: 'ASIACAPTURED000000000', secretAccessKey: 'x', sessionToken: 'y', expiration: '2099-01-01T00:00:00Z' } }] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, request, close: () => server.close() };
}

async function replay(url: string, captured: { method: string; path: string; headers: IncomingMessage['headers']; body: string }, host: string) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(captured.headers)) {
    if (typeof value === 'string' && name !== 'host' && name !== 'content-length' && name !== 'connection') headers[name] = value;
  }
  // Keep the signed Host: the emulator checks the signature over the Host it receives.
  const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const target = new URL(captured.path, url);
    const req = httpRequest(target, { method: captured.method, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(captured.body);
  });
  return response;
}

t.test('a request from credential-process verifies independently and under the emulator; tampering is rejected', async (t) => {
  const id = await rig.issueFileIdentity('verified');
  const capture = await captureOneRequest();
  t.teardown(() => capture.close());
  const flags = rig.sessionFlags.slice(0, 6);
  const result = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...flags, '--endpoint', capture.url]);
  t.equal(result.code, 0, result.stderr);
  const captured = await capture.request;
  t.equal(captured.method, 'POST');
  t.match(captured.path, /^\/sessions\?profileArn=arn%3Aaws%3Arolesanywhere%3A/);
  t.equal(captured.body, '{"durationSeconds":3600}');
  t.match(captured.headers['authorization'] ?? '', /^AWS4-X509-ECDSA-SHA256 Credential=\d+\/\d{8}\/us-east-1\/rolesanywhere\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain, Signature=[0-9a-f]+$/);

  const [path = '', query = ''] = captured.path.split('?');
  const asSeen = { method: captured.method, path, query, headers: captured.headers as Record<string, string> };
  const independent = await verifyIndependently({ ...asSeen, body: captured.body });
  t.ok(independent.valid, `independent verifier: ${independent.reason}`);
  const tamperedIndependent = await verifyIndependently({ ...asSeen, body: '{"durationSeconds":43200}' });
  t.notOk(tamperedIndependent.valid, 'independent verifier rejects a changed body');

  const host = captured.headers.host ?? '';
  const accepted = await replay(rig.url, captured, host);
  t.equal(accepted.status, 201, `the emulator accepts the captured request: ${accepted.body}`);
  const tampered = await replay(rig.url, { ...captured, body: '{"durationSeconds":43200}' }, host);
  t.equal(tampered.status, 403);
  t.match(tampered.body, /signature/i);
});

t.test('--debug explains each step and prints no secret', async (t) => {
  const id = await rig.issueFileIdentity('debugged');
  const result = await runCli(['credential-process', '--debug', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags]);
  t.equal(result.code, 0, result.stderr);
  const [, , secret, token] = PROCESS_JSON.exec(result.stdout) ?? [];
  t.ok(secret !== undefined && token !== undefined);
  t.match(result.stderr, /debug: opening file key source/);
  t.match(result.stderr, /debug: public key matches the certificate/);
  t.match(result.stderr, /debug: signed with AWS4-X509-ECDSA-SHA256 \(verified against the certificate\)/);
  t.match(result.stderr, /debug: POST http:\/\/127\.0\.0\.1:\d+\/sessions \(attempt 1 of 3, 10 s at most\)/);
  t.match(result.stderr, /debug: answer 201/);
  t.notOk(result.stderr.includes(secret ?? '<none>'), 'no secret access key on stderr');
  t.notOk(result.stderr.includes(token ?? '<none>'), 'no session token on stderr');
  const keyPem = await readFile(id.keyPath, 'utf8');
  const keyBody = keyPem.split('\n')[1] ?? '<none>';
  t.notOk(result.stderr.includes(keyBody), 'no key material on stderr');
});

t.test('bad input: one clear line, non-zero exit, nothing on stdout', async (t) => {
  const good = await rig.issueFileIdentity('good');
  const other = await rig.issueFileIdentity('other');
  const closedPort = await freePort();
  const base = ['credential-process', '--intermediates', good.chainPath];
  const cases: Array<[string, string[], string | RegExp]> = [
    ['missing certificate file', [...base, '--certificate', join(rig.dir, 'nope.pem'), '--private-key', good.keyPath, ...rig.sessionFlags], /nope\.pem/],
    ['certificate and key that do not belong together', [...base, '--certificate', good.certificatePath, '--private-key', other.keyPath, ...rig.sessionFlags], /^roles-anywhere-signer: the private key .* does not match certificate/],
    ['a key file that is not a key', [...base, '--certificate', good.certificatePath, '--private-key', good.certificatePath, ...rig.sessionFlags], /^roles-anywhere-signer: .*(not|no) .*key/i],
    ['a malformed ARN', ['credential-process', '--certificate', good.certificatePath, '--private-key', good.keyPath, '--trust-anchor-arn', 'arn:nope', '--profile-arn', rig.profileArn, '--role-arn', rig.roleArn, '--endpoint', rig.url],
      'roles-anywhere-signer: --trust-anchor-arn "arn:nope" is not a valid ARN (it must start with arn: and have six colon-separated parts): expected the form arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/UUID'],
    ['a missing ARN', ['credential-process', '--certificate', good.certificatePath, '--private-key', good.keyPath, '--profile-arn', rig.profileArn, '--role-arn', rig.roleArn], 'roles-anywhere-signer: --trust-anchor-arn is required'],
    ['a malformed endpoint', [...base, '--certificate', good.certificatePath, '--private-key', good.keyPath, ...rig.sessionFlags.slice(0, 6), '--endpoint', 'http://[x'], 'roles-anywhere-signer: --endpoint "http://[x" is not a URL: use e.g. https://rolesanywhere.us-east-1.amazonaws.com'],
    ['a duration out of range', [...base, '--certificate', good.certificatePath, '--private-key', good.keyPath, ...rig.sessionFlags, '--session-duration', '60'], 'roles-anywhere-signer: --session-duration 60 is out of range: use whole seconds from 900 to 43200'],
    ['an endpoint that is not listening', [...base, '--certificate', good.certificatePath, '--private-key', good.keyPath, ...rig.sessionFlags.slice(0, 6), '--endpoint', `http://127.0.0.1:${closedPort}`], `roles-anywhere-signer: cannot reach http://127.0.0.1:${closedPort}/sessions (ECONNREFUSED): check --endpoint, the network and any proxy settings`],
  ];
  for (const [name, args, expected] of cases) {
    t.test(name, async (t) => assertCleanFailure(t, await runCli(args), expected));
  }
});

t.test('certificates the service would reject are diagnosed locally, before any request', async (t) => {
  const pair = generateKeyPair('EC-P256');
  const keyPath = join(rig.dir, 'rules.key.pem');
  await writeFile(keyPath, pair.privateKeyPem);
  const cases: Array<[string, Parameters<typeof issueLeafCertificate>[0], RegExp]> = [
    ['expired', { issuer: rig.intermediate, subject: 'CN=expired', publicKey: pair.publicKey, notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') }, /expired/i],
    ['not yet valid', { issuer: rig.intermediate, subject: 'CN=future', publicKey: pair.publicKey, notBefore: new Date('2090-01-01'), notAfter: new Date('2091-01-01') }, /not (yet )?valid/i],
    ['CA:true', { issuer: rig.intermediate, subject: 'CN=ca-leaf', publicKey: pair.publicKey, basicConstraintsCA: true }, /CA/],
    ['no digitalSignature', { issuer: rig.intermediate, subject: 'CN=enc-only', publicKey: pair.publicKey, keyUsage: ['keyEncipherment'] }, /digitalSignature/],
    ['SHA-1 signature', { issuer: rig.intermediate, subject: 'CN=sha1', publicKey: pair.publicKey, signatureHash: 'SHA-1' }, /SHA-1/],
  ];
  for (const [name, options, pattern] of cases) {
    t.test(name, async (t) => {
      const issued = await issueLeafCertificate(options);
      const certificatePath = join(rig.dir, `rules-${name.replace(/\W+/g, '-')}.pem`);
      await writeFile(certificatePath, issued.certificatePem);
      const before = rig.stats.createSession;
      const result = await runCli(['credential-process', '--certificate', certificatePath, '--private-key', keyPath, ...rig.sessionFlags]);
      assertCleanFailure(t, result, pattern);
      t.match(result.stderr, /would be rejected by IAM Roles Anywhere/);
      t.equal(rig.stats.createSession, before, 'no request was sent');
    });
  }
});

t.test('the emulator\'s refusal reaches the user as the service says it', async (t) => {
  const strangerCa = await createCertificateAuthority({ subject: 'CN=Stranger CA', keyAlgorithm: 'EC-P256' });
  const pair = generateKeyPair('EC-P256');
  const issued = await issueLeafCertificate({ issuer: strangerCa, subject: 'CN=stranger', publicKey: pair.publicKey });
  const keyPath = join(rig.dir, 'stranger.key.pem');
  const certificatePath = join(rig.dir, 'stranger.cert.pem');
  await writeFile(keyPath, pair.privateKeyPem);
  await writeFile(certificatePath, issued.certificatePem);
  const result = await runCli(['credential-process', '--certificate', certificatePath, '--private-key', keyPath, ...rig.sessionFlags]);
  // The service's words, then one hint line with the likely local cause (credentials/refusal-hint.ts).
  t.not(result.code, 0);
  t.equal(result.stdout, '');
  t.equal(result.stderr, 'roles-anywhere-signer: CreateSession denied (403 AccessDeniedException): Untrusted Signing Certificate\n'
    + 'hint: the certificate "CN=stranger" was sent without intermediates, issued by "CN=Stranger CA": the trust anchor must hold that CA (or pass the missing intermediates with --intermediates); run roles-anywhere-signer doctor with the same flags and --trust-anchor-certificate <the anchor\'s CA bundle> to see the path\n');
});

t.test('a broken endpoint: 500 and garbage', async (t) => {
  const id = await rig.issueFileIdentity('broken-endpoint');
  let hits = 0;
  const modes: Record<string, (res: ServerResponse) => void> = {
    '/e500': (res) => {
      res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException' });
      res.end('{"message":"We encountered an internal error"}');
    },
    '/garbage': (res) => {
      res.writeHead(201, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    },
  };
  const server = createServer((req, res) => {
    hits++;
    const mode = Object.keys(modes).find((prefix) => req.url?.startsWith(prefix));
    modes[mode ?? '/e500']?.(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const args = (path: string) => ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, ...rig.sessionFlags.slice(0, 6), '--endpoint', `${base}${path}`];

  hits = 0;
  assertCleanFailure(t, await runCli(args('/e500')), `roles-anywhere-signer: CreateSession failed (500 InternalServerException): We encountered an internal error`);
  t.equal(hits, 3, '5xx is retried, three attempts in all');

  hits = 0;
  assertCleanFailure(t, await runCli(args('/garbage')), `roles-anywhere-signer: ${base}/garbage/sessions answered 201 but the body is not JSON: check that --endpoint points at IAM Roles Anywhere`);
  t.equal(hits, 1);
});
