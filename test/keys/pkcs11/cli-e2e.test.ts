import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { derToPem, startEmulator } from '../../../src/emulator/index.js';
import { isolatedEnv, run, runCli, type RunResult } from '../../helpers/cli.js';
import { cliPath } from '../../helpers/paths.js';
import { buildSoftHsmFixture } from './softhsm-fixture.js';

/**
 * The real CLI, a SoftHSM token and the emulator: credential-process with pkcs11: URIs, the
 * aws CLI through credential_process, and the failures a user meets, each as one line.
 */
const fixture = await buildSoftHsmFixture(t, ['ec-p256', 'rsa-2048', 'always-auth']);
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/00000000-0000-4000-8000-0000000000aa`;
const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/00000000-0000-4000-8000-0000000000bb`;
const roleArn = `arn:aws:iam::${ACCOUNT}:role/pkcs11-e2e`;
// The fixture's root CA is the trust anchor; only the token holds the intermediate.
const emulator = await startEmulator(
  {
    region: REGION,
    accountId: ACCOUNT,
    trustAnchors: [{ arn: trustAnchorArn, certificates: [derToPem(fixture.rootCa)], enabled: true }],
    profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: true, enabled: true }],
  },
  { port: 0, host: '127.0.0.1' },
);
t.teardown(() => emulator.close());

const sessionFlags = ['--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url];
const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;
const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ...extra });
const withPin = env({ ROLES_ANYWHERE_PIN: fixture.pin });

function assertOneLineFailure(t: Test, result: RunResult, line: string): void {
  t.equal(result.code, 1, 'exit code 1');
  t.equal(result.stdout, '', 'nothing on stdout');
  t.equal(result.stderr, `roles-anywhere-signer: ${line}\n`, 'exactly that one line on stderr');
  t.notMatch(result.stderr, fixture.pin, 'no PIN on stderr');
}

t.test('credential-process with pkcs11: URIs gets credentials from the emulator', async (t) => {
  const cases: [string, string[]][] = [
    ['certificate URI (key found by its CKA_ID)', ['--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`]],
    ['certificate and key URIs, RSA', ['--certificate', `pkcs11:token=${fixture.tokenLabel};object=rsa-2048;type=cert`, '--private-key', `pkcs11:token=${fixture.tokenLabel};object=rsa-2048;type=private`]],
    ['a PIN-always key with --reuse-pin', ['--certificate', `pkcs11:token=${fixture.tokenLabel};object=always-auth`, '--reuse-pin']],
  ];
  for (const [name, keyFlags] of cases) {
    const before = emulator.stats.createSession;
    const result = await runCli(['credential-process', ...keyFlags, '--pkcs11-lib', fixture.module, ...sessionFlags], { env: withPin });
    t.equal(result.stderr, '', `${name}: nothing on stderr`);
    t.equal(result.code, 0, `${name}: exit 0`);
    t.match(result.stdout, PROCESS_JSON, `${name}: credential_process JSON`);
    // The emulator validates the path to the root; only the token's intermediate completes it.
    t.equal(emulator.stats.createSession, before + 1, `${name}: one CreateSession, accepted`);
  }
});

t.test('module-path in the URI and a pin-source file work without flags', async (t) => {
  const pinFile = join(fixture.dir, 'cli-pin');
  await writeFile(pinFile, `${fixture.pin}\n`, { mode: 0o600 });
  const uri = `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert?pin-source=file:${pinFile}&module-path=${fixture.module}`;
  const result = await runCli(['credential-process', '--certificate', uri, ...sessionFlags], { env: env() });
  t.equal(result.stderr, '');
  t.match(result.stdout, PROCESS_JSON);
});

t.test('the aws CLI runs credential-process with a pkcs11: URI from ~/.aws/config, and STS accepts the credentials', async (t) => {
  const config = join(fixture.dir, 'aws-config');
  const command = [process.execPath, cliPath, 'credential-process', '--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`, '--pkcs11-lib', fixture.module, ...sessionFlags]
    .map((part) => `"${part}"`)
    .join(' ');
  await writeFile(config, `[profile token]\nregion = ${REGION}\ncredential_process = ${command}\n`);
  const result = await run('aws', ['sts', 'get-caller-identity', '--profile', 'token', '--endpoint-url', emulator.url, '--output', 'json'], {
    env: env({ ROLES_ANYWHERE_PIN: fixture.pin, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(fixture.dir, 'no-credentials') }),
  });
  t.equal(result.code, 0, result.stderr);
  const identity = JSON.parse(result.stdout) as { Account: string; Arn: string };
  t.equal(identity.Account, ACCOUNT);
  t.match(identity.Arn, /^arn:aws:sts::123456789012:assumed-role\/pkcs11-e2e\//);
});

t.test('failures: one line naming the URI without its PIN, exit 1, never a hang or a second try', async (t) => {
  const cert = `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`;
  const base = ['credential-process', '--pkcs11-lib', fixture.module, ...sessionFlags];

  const createSessionsBefore = emulator.stats.createSession;
  const started = Date.now();
  const noPin = await runCli([...base, '--certificate', cert], { env: env() });
  t.ok(Date.now() - started < 20_000, 'no terminal and no PIN: it fails at once instead of waiting');
  assertOneLineFailure(t, noPin, `PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) is needed but there is no terminal to ask on: set ROLES_ANYWHERE_PIN, add pin-source=file:/path (or pin-source=|command) to the URI, or run from a terminal`);

  const wrongPin = await runCli([...base, '--certificate', `${cert}?pin-value=999999`], { env: env() });
  assertOneLineFailure(t, wrongPin, `wrong PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) (CKR_PIN_INCORRECT; the token reports few tries left): it was not retried; check the PIN and its source, then run again`);
  t.notMatch(wrongPin.stderr, /999999/);

  const missing = await runCli([...base, '--certificate', 'pkcs11:token=no-such-token;object=ec-p256?pin-value=999999'], { env: withPin });
  assertOneLineFailure(t, missing, `no token matches pkcs11:token=no-such-token;object=ec-p256 in ${fixture.module} (present: ${fixture.tokenUri}, ${fixture.otherTokenUri}): plug the token in, or fix token=/serial= in the URI`);

  const notAModule = await runCli(['credential-process', '--certificate', cert, '--pkcs11-lib', join(fixture.dir, 'fixture.json'), ...sessionFlags], { env: withPin });
  t.equal(notAModule.code, 1);
  t.match(notAModule.stderr, /^roles-anywhere-signer: cannot load the PKCS#11 module .*fixture\.json \(from --pkcs11-lib\): .*; it is not a loadable PKCS#11 module for this system: check the path and the architecture\n$/);

  const unconfigured = await runCli([...base, '--certificate', cert], { env: env({ SOFTHSM2_CONF: join(fixture.dir, 'missing-softhsm2.conf'), ROLES_ANYWHERE_PIN: fixture.pin }) });
  assertOneLineFailure(t, unconfigured, `the PKCS#11 module ${fixture.module} failed to initialize (CKR_GENERAL_ERROR): check its configuration (for SoftHSM: SOFTHSM2_CONF and its token directory)`);

  t.equal(emulator.stats.createSession, createSessionsBefore, 'every failure happened before any network call');
});

t.test('read-certificate-data --certificate pkcs11:... lists the matching identities', async (t) => {
  const result = await runCli(['read-certificate-data', '--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256`, '--pkcs11-lib', fixture.module], { env: env() });
  t.equal(result.stderr, '');
  t.equal(result.code, 0);
  const lines = result.stdout.split('\n');
  t.equal(lines[0], 'Matching identities');
  t.match(lines[1] ?? '', /^1\) [0-9a-f]{64} "CN=ec-p256,O=roles-anywhere-signer tests"$/);
  t.ok(lines.includes(`\tURI: ${fixture.tokenUri};object=ec-p256;type=cert;id=%01`), 'a ready-to-paste URI');
});

t.test('list shows the tokens and objects as URIs', async (t) => {
  const result = await runCli(['list', '--pkcs11-lib', fixture.module, `pkcs11:token=${fixture.tokenLabel}`, '--login'], { env: withPin });
  t.equal(result.stderr, '');
  t.equal(result.code, 0);
  t.match(result.stdout, `    ${fixture.tokenUri}\n`);
  t.match(result.stdout, `    private key "always-auth" id 05: EC P-256, PIN before every signature\n      ${fixture.tokenUri};object=always-auth;type=private;id=%05\n`);
  t.notMatch(result.stdout, fixture.pin);
  const json = JSON.parse((await runCli(['list', '--pkcs11-lib', fixture.module, '--json'], { env: env() })).stdout) as { tokens: { uri: string }[] }[];
  t.same(json[0]?.tokens.map((token) => token.uri), [fixture.tokenUri, fixture.otherTokenUri]);
});

// The fixture's certificates exist on disk as well: a file --certificate with a pkcs11: key.
t.test('a certificate file with a pkcs11: key URI', async (t) => {
  const certificateFile = join(fixture.dir, 'ec-p256.pem');
  await writeFile(certificateFile, derToPem(await readFile(join(fixture.dir, 'pki', 'ec-p256.crt.der'))));
  const result = await runCli(['credential-process', '--certificate', certificateFile, '--private-key', `pkcs11:token=${fixture.tokenLabel};object=ec-p256`, '--intermediates', join(fixture.dir, 'pki', 'intermediate-ca.pem'), '--pkcs11-lib', fixture.module, ...sessionFlags], { env: withPin });
  t.equal(result.stderr, '');
  t.match(result.stdout, PROCESS_JSON);
});
