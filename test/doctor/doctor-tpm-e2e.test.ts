/**
 * doctor's TPM lines end to end on swtpm: a good key (file, password file, persistent handle),
 * a TPM driven into dictionary-attack lockout with wrong passwords, and a TPM that does not answer.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { freeLoopbackPort } from '../../scripts/fixtures/free-port.js';
import { isSignerError } from '../../src/errors.js';
import { createPrimaryCommand, loadCommand, signCommand } from '../../src/keys/tpm/commands.js';
import { TPM_ALG, TPM_RH } from '../../src/keys/tpm/constants.js';
import { parseTss2KeyFile } from '../../src/keys/tpm/keyfile.js';
import { ECC_P256_STORAGE_PRIMARY } from '../../src/keys/tpm/templates.js';
import { readFileSync } from 'node:fs';
import { isolatedEnv, runCli, type RunResult } from '../helpers/cli.js';
import { startTpmEnrollRig } from '../enroll/enroll-tpm-rig.js';
import { swtpmFor, tpm2Tool, withClient } from '../keys/tpm/rig.js';
import type { RunningSwtpm } from '../../scripts/fixtures/swtpm.js';

const { rig, dir, swtpm, rootPath, intermediates, env, enroll, issue } = await startTpmEnrollRig(t);

interface Line { check: string; status: string; detail: string; fix?: string }

function tpmLines(result: RunResult): Line[] {
  return (JSON.parse(result.stdout) as Line[]).filter((line) => line.check.startsWith('tpm') || line.check.startsWith('key'));
}

async function doctor(args: readonly string[], runEnv: NodeJS.ProcessEnv = env()): Promise<RunResult> {
  return runCli(['doctor', ...args, '--trust-anchor-arn', rig.trustAnchorArn, '--profile-arn', rig.profileArn, '--role-arn', rig.roleArn, '--offline'], { env: runEnv });
}

/** Wrong passwords through the project's TPM client, as a misconfigured program would send them. */
async function wrongPasswords(t: Test, tpm: RunningSwtpm, keyPath: string, count: number): Promise<void> {
  const file = parseTss2KeyFile(readFileSync(keyPath), keyPath);
  await withClient(tpm, async (client) => {
    const primary = await client.run(createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: Buffer.alloc(0), template: ECC_P256_STORAGE_PRIMARY }));
    const key = await client.run(loadCommand({ parentHandle: primary.handle, parentAuth: Buffer.alloc(0), inPrivate: file.privateBlob, inPublic: file.publicBlob }));
    try {
      for (let i = 0; i < count; i++) {
        const sent = client.run(signCommand({ keyHandle: key.handle, keyAuth: Buffer.from('wrong'), digest: Buffer.alloc(32, 1), scheme: TPM_ALG.ECDSA, hashAlg: TPM_ALG.SHA256 }));
        await sent.then(() => t.fail('a wrong password signed'), (error: unknown) => t.ok(isSignerError(error, 'TPM_AUTH_FAILED') || isSignerError(error, 'TPM_LOCKOUT'), 'the TPM refused the password'));
      }
    } finally {
      await client.flush(key.handle);
      await client.flush(primary.handle);
    }
  });
}

t.test('a good key: the TPM answers, no lockout, the key loads, and it matches its certificate', async (t) => {
  const keyPath = join(dir, 'good.tss2.pem');
  t.equal((await enroll(['--private-key', keyPath, '--persistent-handle', '0x81000040', '--subject', 'CN=good', '--out', join(dir, 'good.csr')])).code, 0);
  const certificatePath = join(dir, 'good.crt');
  await issue(join(dir, 'good.csr'), certificatePath);
  const where = `swtpm 127.0.0.1:${swtpm.port ?? 0}`;
  const result = await doctor(['--certificate', certificatePath, '--private-key', keyPath, '--intermediates', intermediates, '--trust-anchor-certificate', rootPath, '--json']);
  t.equal(result.stderr, '');
  t.same(tpmLines(result), [
    { check: 'tpm', status: 'ok', detail: `the TPM at ${where} answers (TPM2_GetCapability)` },
    { check: 'tpm lockout', status: 'ok', detail: 'not in lockout (0 of 3 failed authorizations counted)' },
    { check: 'tpm key', status: 'ok', detail: `${keyPath} loads under the owner hierarchy's storage key (TPM2_Load; no password used)` },
    { check: 'key', status: 'ok', detail: `${keyPath} opens (EC)` },
    { check: 'key matches certificate', status: 'ok', detail: 'same public key (compared without a signature)' },
  ]);
  t.equal(result.code, 0, 'no check failed');

  const byHandle = await doctor(['--certificate', certificatePath, '--private-key', 'handle:0x81000040', '--intermediates', intermediates, '--trust-anchor-certificate', rootPath, '--json']);
  t.same(tpmLines(byHandle).map((line) => [line.check, line.status, line.detail]).slice(2, 4), [
    ['tpm key', 'ok', 'handle:0x81000040 is present (persistent)'],
    ['key', 'ok', 'handle:0x81000040 opens (EC)'],
  ]);
  t.equal(byHandle.code, 0);
});

t.test('a password key is checked without its password: nothing asked, no lockout try spent', async (t) => {
  const keyPath = join(dir, 'password.tss2.pem');
  t.equal((await enroll(['--private-key', keyPath, '--subject', 'CN=password', '--tpm-key-password', 'pw-doctor', '--out', join(dir, 'password.csr')])).code, 0);
  await issue(join(dir, 'password.csr'), join(dir, 'password.crt'));
  const result = await doctor(['--certificate', join(dir, 'password.crt'), '--private-key', keyPath, '--intermediates', intermediates, '--json']);
  t.same(tpmLines(result).map((line) => line.status), ['ok', 'ok', 'ok', 'ok', 'ok']);
  t.match(tpmLines(result)[1]?.detail, '(0 of 3 failed authorizations counted)', 'no try was spent');
  t.equal(result.code, 0);
});

t.test('lockout: a warning when half the tries are spent, a failed check in lockout', async (t) => {
  // A throwaway TPM: lockout lasts until the counter drops or the lockout hierarchy resets it.
  const throwaway = await swtpmFor(t, { mode: 'tcp', stateDir: join(dir, 'lockout-state') });
  await tpm2Tool(throwaway, 'tpm2_dictionarylockout', ['--setup-parameters', '--max-tries=4', '--recovery-time=1000', '--lockout-recovery-time=0']);
  const tcti = isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: throwaway.tcti });
  const where = `swtpm 127.0.0.1:${throwaway.port ?? 0}`;
  const keyPath = join(dir, 'lockout.tss2.pem');
  const enrolled = await runCli(['enroll', '--tpm', '--private-key', keyPath, '--subject', 'CN=lockout', '--tpm-key-password', 'right', '--out', join(dir, 'lockout.csr')], { env: tcti });
  t.equal(enrolled.code, 0, enrolled.stderr);

  await wrongPasswords(t, throwaway, keyPath, 2);
  const warned = await doctor(['--private-key', keyPath, '--json'], tcti);
  t.same(tpmLines(warned)[1], {
    check: 'tpm lockout',
    status: 'warn',
    detail: `2 of 4 failed authorizations counted at ${where}: 2 more wrong password(s) put the TPM in lockout`,
    fix: 'check the key password and its source before the next run; the TPM forgets one failure every 1000 s',
  });

  await wrongPasswords(t, throwaway, keyPath, 2);
  const locked = await doctor(['--private-key', keyPath], tcti);
  t.equal(locked.code, 1, 'a failed check');
  t.match(locked.stdout, `\nfail  tpm lockout: the TPM at ${where} is in dictionary-attack lockout (4 of 4 failed authorizations counted): keys with a password are refused -> wait (the TPM forgets one failure every 1000 s), or reset it with tpm2_dictionarylockout --clear-lockout (the lockout hierarchy's password); then find what sent wrong passwords\n`);
  t.match(locked.stdout, `\nok    tpm key: ${keyPath} loads under the owner hierarchy's storage key (TPM2_Load; no password used)\n`, 'loading needs no password, so it works in lockout');
  const signing = await runCli(['sign-string', '--private-key', keyPath, '--tpm-key-password', 'right'], { env: tcti });
  t.match(signing.stderr, /is in dictionary-attack lockout/, 'and signing, even with the right password, is refused, as doctor said');
});

t.test('a TPM that does not answer: a failed tpm line with the fix', async (t) => {
  const port = await freeLoopbackPort();
  const result = await doctor(['--private-key', 'handle:0x81000040', '--tpm-tcti', `swtpm:host=127.0.0.1,port=${port}`]);
  t.equal(result.code, 1);
  t.match(result.stdout, `\nfail  tpm: nothing accepts connections at swtpm 127.0.0.1:${port} (from the TCTI setting) (ECONNREFUSED) -> start the TPM simulator or fix the TCTI\n`);
  t.notMatch(result.stdout, /tpm lockout/, 'no lockout line without a TPM');
  t.match(result.stdout, '\nwarn  key: not opened: the TPM does not answer (above) -> fix the tpm line first\n', 'the key is not tried against a TPM that is not there');
  t.same(result.stdout.split('\n').filter((line) => line.includes('ECONNREFUSED')).length, 1, 'one failed line for one cause');
});
