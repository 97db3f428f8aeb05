import { writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createTpmKeys, FIXTURE_KEY_PASSWORD, type TpmFixture, type TpmKeyFixture, type TpmKeyName } from '../../../scripts/fixtures/swtpm.js';
import { isolatedEnv, run, runCli, type RunResult } from '../../helpers/cli.js';
import { startRig, type Rig } from '../../helpers/emulator-rig.js';
import { cliPath } from '../../helpers/paths.js';
import { swtpmFor, tempDir, transientHandles } from './rig.js';
import type { RunningSwtpm } from '../../../scripts/fixtures/swtpm.js';

/**
 * End to end: the compiled CLI, a TSS2 key file or a persistent handle in swtpm, and the
 * CreateSession emulator with a trust anchor that issued the TPM keys' certificates.
 */
const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;

let rig: Rig;
let swtpm: RunningSwtpm;
let fixture: TpmFixture;

t.before(async () => {
  rig = await startRig();
  swtpm = await swtpmFor(t, { mode: 'tcp' });
  fixture = await createTpmKeys(swtpm, join(tempDir(t, 'tpm-cli'), 'keys'), ['ec-p256', 'rsa-2048', 'ec-p256-password', 'ec-p256-under-persistent', 'persistent-ec-p256'], rig.intermediate);
});
t.teardown(() => rig.close());

function key(name: TpmKeyName): TpmKeyFixture {
  const entry = fixture.keys[name];
  if (entry === undefined) throw new Error(`no ${name}`);
  return entry;
}

function keyFlags(entry: TpmKeyFixture): string[] {
  return ['--certificate', entry.certificatePath, '--private-key', entry.keyPath ?? `handle:0x${(entry.handle as number).toString(16)}`, '--intermediates', join(rig.dir, 'intermediate.pem')];
}

function tpmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: fixture.tcti, ...extra });
}

function assertCleanFailure(t: Test, result: RunResult, expectedLine: string): void {
  t.not(result.code, 0, 'exit code is non-zero');
  t.equal(result.stdout, '', 'stdout is empty');
  t.same(result.stderr.split('\n').filter((line) => line !== ''), [expectedLine], 'exactly one line on stderr');
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

t.test('credential-process with a TSS2 EC key file (TCTI from ROLES_ANYWHERE_TPM_TCTI)', async (t) => {
  const before = rig.stats.createSession;
  const result = await runCli(['credential-process', ...keyFlags(key('ec-p256')), ...rig.sessionFlags], { env: tpmEnv() });
  t.equal(result.stderr, '');
  t.equal(result.code, 0);
  t.match(result.stdout, PROCESS_JSON);
  t.equal(rig.stats.createSession, before + 1);
  t.same(await transientHandles(swtpm), [], 'the CLI left no transient object in the TPM');
});

t.test('RSA key file with --tpm-tcti; TPM2TOOLS_TCTI alone also works', async (t) => {
  const flagged = await runCli(['credential-process', ...keyFlags(key('rsa-2048')), '--tpm-tcti', fixture.tcti, ...rig.sessionFlags]);
  t.equal(flagged.stderr, '');
  t.match(flagged.stdout, PROCESS_JSON);
  const fromTools = await runCli(['credential-process', ...keyFlags(key('rsa-2048')), ...rig.sessionFlags], { env: isolatedEnv({ TPM2TOOLS_TCTI: fixture.tcti }) });
  t.equal(fromTools.stderr, '');
  t.match(fromTools.stdout, PROCESS_JSON);
});

t.test('a password key with ROLES_ANYWHERE_TPM_KEY_PASSWORD, and a key under a persistent parent', async (t) => {
  const withPassword = await runCli(['credential-process', ...keyFlags(key('ec-p256-password')), ...rig.sessionFlags], { env: tpmEnv({ ROLES_ANYWHERE_TPM_KEY_PASSWORD: FIXTURE_KEY_PASSWORD }) });
  t.equal(withPassword.stderr, '');
  t.match(withPassword.stdout, PROCESS_JSON);
  const underPersistent = await runCli(['credential-process', ...keyFlags(key('ec-p256-under-persistent')), ...rig.sessionFlags], { env: tpmEnv() });
  t.equal(underPersistent.stderr, '');
  t.match(underPersistent.stdout, PROCESS_JSON);
});

t.test('a persistent handle with --no-tpm-key-password', async (t) => {
  const result = await runCli(['credential-process', ...keyFlags(key('persistent-ec-p256')), '--no-tpm-key-password', ...rig.sessionFlags], { env: tpmEnv() });
  t.equal(result.stderr, '');
  t.match(result.stdout, PROCESS_JSON);
});

t.test('the aws CLI gets credentials through credential_process with a TPM key', async (t) => {
  const entry = key('ec-p256');
  const config = join(rig.dir, 'aws-config-tpm');
  const command = [process.execPath, cliPath, 'credential-process', ...keyFlags(entry), '--tpm-tcti', fixture.tcti, ...rig.sessionFlags].map((part) => `"${part}"`).join(' ');
  writeFileSync(config, `[profile tpm]\nregion = us-east-1\ncredential_process = ${command}\n`);
  const result = await run('aws', ['sts', 'get-caller-identity', '--profile', 'tpm', '--endpoint-url', rig.url, '--output', 'json'], {
    env: isolatedEnv({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'no-credentials') }),
  });
  t.equal(result.code, 0, result.stderr);
  t.match(JSON.parse(result.stdout) as { Arn: string }, { Arn: /^arn:aws:sts::123456789012:assumed-role\/e2e-role\/.+/ });
});

t.test('bad input: one clear line, non-zero exit, no stack trace, nothing leaked', async (t) => {
  const entry = key('ec-p256-password');
  const base = ['credential-process', ...keyFlags(entry), ...rig.sessionFlags];

  const wrong = 'wrong-password-123';
  const wrongPassword = await runCli([...base, '--tpm-key-password', wrong, '--debug'], { env: tpmEnv() });
  t.not(wrongPassword.code, 0);
  t.equal(wrongPassword.stdout, '');
  t.match(wrongPassword.stderr, `roles-anywhere-signer: the password for the TPM key ${entry.keyPath} is wrong; each wrong password counts toward the TPM's dictionary-attack lockout, so it is not tried again: check --tpm-key-password or ROLES_ANYWHERE_TPM_KEY_PASSWORD\n`);
  t.notOk(wrongPassword.stderr.includes(wrong), 'the password is not on stderr, even with --debug');

  assertCleanFailure(
    t,
    await runCli(base, { env: tpmEnv() }),
    `roles-anywhere-signer: Password for TPM key ${entry.keyPath} is needed but there is no terminal to ask on: pass --tpm-key-password, set ROLES_ANYWHERE_TPM_KEY_PASSWORD, or pass --no-tpm-key-password if the key has no password`,
  );

  const closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  assertCleanFailure(
    t,
    await runCli(base, { env: isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: `swtpm:host=127.0.0.1,port=${closedPort}` }) }),
    `roles-anywhere-signer: nothing accepts connections at swtpm 127.0.0.1:${closedPort} (from ROLES_ANYWHERE_TPM_TCTI) (ECONNREFUSED): start the TPM simulator or fix the TCTI`,
  );

  const hangUp = createServer((socket) => {
    socket.resume();
    socket.once('data', () => socket.destroy());
  });
  await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => hangUp.close(() => resolve())));
  const hangUpPort = (hangUp.address() as { port: number }).port;
  assertCleanFailure(
    t,
    await runCli(['credential-process', ...keyFlags(key('ec-p256')), ...rig.sessionFlags], { env: isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: `swtpm:host=127.0.0.1,port=${hangUpPort}` }) }),
    `roles-anywhere-signer: swtpm 127.0.0.1:${hangUpPort} closed the connection before answering: check that the TPM simulator is running and serves no other client`,
  );

  const truncated = join(rig.dir, 'truncated.pem');
  writeFileSync(truncated, readFileSync(key('ec-p256').keyPath as string, 'utf8').slice(0, 120));
  assertCleanFailure(
    t,
    await runCli(['credential-process', '--certificate', key('ec-p256').certificatePath, '--private-key', truncated, ...rig.sessionFlags], { env: tpmEnv() }),
    `roles-anywhere-signer: ${truncated}: PEM block "TSS2 PRIVATE KEY" that begins on line 1 has no END line: the file is truncated; get a fresh copy`,
  );

  const other = await swtpmFor(t, { mode: 'unix' });
  const orphan = key('ec-p256-under-persistent');
  assertCleanFailure(
    t,
    await runCli(['credential-process', ...keyFlags(orphan), ...rig.sessionFlags], { env: isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: other.tcti }) }),
    `roles-anywhere-signer: the parent key 0x81000001 of ${orphan.keyPath} is not in the TPM at UNIX socket ${other.socketPath}: make it persistent again (tpm2_evictcontrol) or use the TPM the key was made on`,
  );
  t.same(await transientHandles(other), [], 'no transient object left after the failed load');
  t.same(await transientHandles(swtpm), [], 'no transient object left after the failures');
});
