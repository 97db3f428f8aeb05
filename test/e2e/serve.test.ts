import t, { type Test } from 'tap';
import { join } from 'node:path';
import { startRig, ACCOUNT, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run } from '../helpers/cli.js';
import { startCli, type LongRunning } from '../serve/process.js';
import { writeFile } from 'node:fs/promises';
import { loadNativeAddon } from '../../src/native.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

const hasAddon = loadNativeAddon({}).addon !== undefined;

let rig: Rig;
let identity: { keyPath: string; certificatePath: string; chainPath: string };
t.before(async () => {
  rig = await startRig();
  identity = await rig.issueFileIdentity('serve-client');
});
t.teardown(() => rig.close());

function keyFlags(): string[] {
  return ['--certificate', identity.certificatePath, '--private-key', identity.keyPath, '--intermediates', identity.chainPath];
}

/** Starts `serve` and waits for its export line; stops it when the test ends. */
async function serve(t: Test, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<{ process: LongRunning; endpoint: string }> {
  const process = startCli(['serve', '--port', '0', ...keyFlags(), ...rig.sessionFlags, ...extra], isolatedEnv(env));
  t.teardown(() => process.stop('SIGKILL'));
  const [line] = await process.lines(1);
  const match = /^export AWS_EC2_METADATA_SERVICE_ENDPOINT=(http:\/\/\S+\/)$/.exec(line ?? '');
  if (match?.[1] === undefined) throw new Error(`no export line: stdout ${JSON.stringify(process.stdout())}, stderr ${JSON.stringify(process.stderr())}`);
  return { process, endpoint: match[1] };
}

/** The aws CLI (botocore) finding credentials through IMDS only. */
function awsViaImds(endpoint: string) {
  return run('aws', ['sts', 'get-caller-identity', '--endpoint-url', rig.url, '--output', 'json'], {
    env: isolatedEnv({
      AWS_EC2_METADATA_DISABLED: undefined,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
      AWS_METADATA_SERVICE_TIMEOUT: '5',
      AWS_METADATA_SERVICE_NUM_ATTEMPTS: '2',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(rig.dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'no-credentials'),
    }),
  });
}

async function imdsToken(endpoint: string, headers: Record<string, string> = {}) {
  return fetch(new URL('latest/api/token', endpoint), { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60', ...headers } });
}

t.test('the aws CLI gets credentials from serve through AWS_EC2_METADATA_SERVICE_ENDPOINT, signed once for many calls', async (t) => {
  const before = rig.stats.createSession;
  const { process, endpoint } = await serve(t);
  t.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  t.equal(rig.stats.createSession, before + 1, 'credentials fetched at start');
  for (let call = 0; call < 2; call++) {
    const result = await awsViaImds(endpoint);
    t.equal(result.code, 0, result.stderr);
    const caller = JSON.parse(result.stdout) as { Account: string; Arn: string };
    t.equal(caller.Account, ACCOUNT);
    t.match(caller.Arn, /^arn:aws:sts::123456789012:assumed-role\/e2e-role\/.+/);
  }
  t.equal(rig.stats.createSession, before + 1, 'no CreateSession per client call');
  t.ok(rig.stats.getCallerIdentity >= 2, 'STS verified the served credentials');

  // What botocore read is what serve holds; none of it may reach serve's stderr.
  const token = await (await imdsToken(endpoint)).text();
  const document = (await (await fetch(new URL('latest/meta-data/iam/security-credentials/e2e-role', endpoint), { headers: { 'x-aws-ec2-metadata-token': token } })).json()) as Record<string, string>;
  t.equal(document['Code'], 'Success');
  const code = await process.stop('SIGTERM');
  t.equal(code, 0, 'SIGTERM ends serve cleanly');
  const stderr = process.stderr();
  t.match(stderr, /roles-anywhere-signer: serving IMDSv2 credentials for arn:aws:iam::123456789012:role\/e2e-role on http:\/\/127\.0\.0\.1:\d+\//);
  t.match(stderr, /roles-anywhere-signer: SIGTERM: shutting down\n$/);
  for (const secret of [document['SecretAccessKey'], document['Token'], token]) {
    t.notOk(stderr.includes(secret ?? 'missing'), 'no secret or IMDS token on stderr');
  }
});

t.test('with --debug, serve explains each step and still prints no secret', async (t) => {
  const { process, endpoint } = await serve(t, ['--debug']);
  const result = await awsViaImds(endpoint);
  t.equal(result.code, 0, result.stderr);
  const token = await (await imdsToken(endpoint)).text();
  const document = (await (await fetch(new URL('latest/meta-data/iam/security-credentials/e2e-role', endpoint), { headers: { 'x-aws-ec2-metadata-token': token } })).json()) as Record<string, string>;
  t.equal(await process.stop('SIGTERM'), 0);
  const stderr = process.stderr();
  t.match(stderr, /debug: PUT \/latest\/api\/token -> 200\n/);
  t.match(stderr, /debug: GET \/latest\/meta-data\/iam\/security-credentials\/e2e-role -> 200\n/);
  t.match(stderr, /debug: answer 201 after \d+ ms\n/);
  for (const secret of [document['SecretAccessKey'], document['Token'], token]) {
    t.notOk(stderr.includes(secret ?? 'missing'), 'no secret or IMDS token on stderr');
  }
});

t.test('serve on ::1 works for the aws CLI too', async (t) => {
  const { endpoint } = await serve(t, ['--bind', '::1']);
  t.match(endpoint, /^http:\/\/\[::1\]:\d+\/$/);
  const result = await awsViaImds(endpoint);
  t.equal(result.code, 0, result.stderr);
  t.equal((JSON.parse(result.stdout) as { Account: string }).Account, ACCOUNT);
});

t.test('a token request with X-Forwarded-For and a request with a bad token are refused', async (t) => {
  const { endpoint } = await serve(t);
  const forwarded = await imdsToken(endpoint, { 'x-forwarded-for': '198.51.100.7' });
  t.equal(forwarded.status, 400);
  t.equal(await forwarded.text(), 'Bad Request: requests with an X-Forwarded-For header are refused');
  const bad = await fetch(new URL('latest/meta-data/iam/security-credentials/e2e-role', endpoint), { headers: { 'x-aws-ec2-metadata-token': 'x'.repeat(64) } });
  t.equal(bad.status, 401);
  const none = await fetch(new URL('latest/meta-data/iam/security-credentials/e2e-role', endpoint));
  t.equal(none.status, 401, 'IMDSv1 (no token) refused');
});

t.test('serve fails fast, with one line, when the first CreateSession fails', async (t) => {
  // A key and certificate that match, from a CA the trust anchor does not know.
  const stranger = await createCertificateAuthority({ subject: 'CN=Stranger CA', keyAlgorithm: 'EC-P256' });
  const pair = generateKeyPair('EC-P256');
  const leaf = await issueLeafCertificate({ issuer: stranger, subject: 'CN=stranger', publicKey: pair.publicKey });
  const keyPath = join(rig.dir, 'stranger.key.pem');
  const certificatePath = join(rig.dir, 'stranger.cert.pem');
  await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
  await writeFile(certificatePath, leaf.certificatePem);
  const before = rig.stats.createSession;
  const process = startCli(['serve', '--port', '0', '--certificate', certificatePath, '--private-key', keyPath, ...rig.sessionFlags], isolatedEnv());
  t.teardown(() => process.stop('SIGKILL'));
  t.equal(await process.exited(), 1);
  t.equal(rig.stats.createSession, before + 1, 'one CreateSession, not retried (a 403 cannot get better)');
  t.equal(process.stdout(), '', 'no export line for a service that never started');
  const lines = process.stderr().split('\n').filter((line) => line !== '' && !line.includes(': warning: '));
  t.same(lines, ['roles-anywhere-signer: CreateSession denied (403 AccessDeniedException): Untrusted Signing Certificate'], process.stderr());
});

t.test('a non-loopback bind is refused without --allow-non-loopback and --hop-limit 1', async (t) => {
  const process = startCli(['serve', '--port', '0', '--bind', '0.0.0.0', ...keyFlags(), ...rig.sessionFlags], isolatedEnv());
  t.equal(await process.exited(), 2);
  t.equal(process.stderr(), 'roles-anywhere-signer: --bind 0.0.0.0 is not a loopback address, so anyone who can reach it could take the credentials: bind to 127.0.0.1 or ::1, or pass --allow-non-loopback with --hop-limit 1\n');
});

t.test('without the native addon: the default works with a warning, another --hop-limit fails clearly', async (t) => {
  const refused = startCli(['serve', '--port', '0', '--hop-limit', '1', ...keyFlags(), ...rig.sessionFlags], isolatedEnv({ ROLES_ANYWHERE_NO_NATIVE: '1' }));
  t.equal(await refused.exited(), 1);
  t.equal(refused.stderr(), 'roles-anywhere-signer: --hop-limit 1 cannot be enforced: ROLES_ANYWHERE_NO_NATIVE=1 is set\n');

  const { process, endpoint } = await serve(t, [], { ROLES_ANYWHERE_NO_NATIVE: '1' });
  t.match(process.stderr(), /^roles-anywhere-signer: warning: native addon not loaded \(ROLES_ANYWHERE_NO_NATIVE=1 is set\): hop limit left at the system default, core dumps not disabled, process still dumpable \(same-user ptrace, \/proc\/<pid>\/mem\), secrets not locked in memory\n/);
  const result = await awsViaImds(endpoint);
  t.equal(result.code, 0, result.stderr);
});

t.test('with the native addon, serve starts with --hop-limit 1 and no warning', { skip: hasAddon ? false : 'native addon not built' }, async (t) => {
  const { process, endpoint } = await serve(t, ['--hop-limit', '1']);
  t.notMatch(process.stderr(), /warning/);
  t.match(process.stderr(), /\(hop limit 1\)/);
  const result = await awsViaImds(endpoint);
  t.equal(result.code, 0, result.stderr);
});
