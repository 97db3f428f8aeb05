/**
 * enroll --tpm's refusals end to end on swtpm: one line each, the exit code, and nothing left
 * behind: no key file, no persistent handle.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { freeLoopbackPort } from '../../scripts/fixtures/free-port.js';
import { runCli } from '../helpers/cli.js';
import { startTpmEnrollRig } from './enroll-tpm-rig.js';

const { dir, swtpm, env, enroll, persistentHandles, assertOneLineFailure } = await startTpmEnrollRig(t);
const where = `swtpm 127.0.0.1:${swtpm.port ?? 0}`;

t.test('an existing key file is never overwritten', async (t) => {
  const keyPath = join(dir, 'existing.tss2.pem');
  writeFileSync(keyPath, 'keep me\n');
  assertOneLineFailure(t, await enroll(['--private-key', keyPath, '--subject', 'CN=x']),
    `--private-key ${keyPath} already exists: enroll never overwrites a key file; name a new file (nothing was created)`, 2);
  t.equal(readFileSync(keyPath, 'utf8'), 'keep me\n', 'the file is untouched');
});

t.test('a persistent handle in use is refused before a key is created', async (t) => {
  const first = await enroll(['--private-key', 'handle:0x81000020', '--subject', 'CN=first', '--out', join(dir, 'first.csr')]);
  t.equal(first.code, 0, first.stderr);
  const keyPath = join(dir, 'second.tss2.pem');
  assertOneLineFailure(t, await enroll(['--private-key', keyPath, '--persistent-handle', '0x81000020', '--subject', 'CN=second']),
    `handle:0x81000020 already holds a key in the TPM at ${where}: choose another persistent handle (tpm2_getcap handles-persistent lists those in use); nothing was created`);
  t.notOk(existsSync(keyPath), 'no key file');
  assertOneLineFailure(t, await enroll(['--private-key', 'handle:0x81000020', '--subject', 'CN=again']),
    `handle:0x81000020 already holds a key in the TPM at ${where}: choose another persistent handle (tpm2_getcap handles-persistent lists those in use); nothing was created`);
});

t.test('a parent that is not there', async (t) => {
  const keyPath = join(dir, 'orphan.tss2.pem');
  assertOneLineFailure(t, await enroll(['--private-key', keyPath, '--parent-handle', '0x81000099', '--subject', 'CN=orphan']),
    `there is no key at handle:0x81000099 in the TPM at ${where}: make a storage key persistent there first (tpm2_createprimary, tpm2_evictcontrol), or leave out --parent-handle to use the SRK; nothing was created`);
  t.notOk(existsSync(keyPath));
});

t.test('an existing --out is refused before the TPM is touched; an unwritable one removes the new key file and frees the handle', async (t) => {
  const existing = join(dir, 'existing.csr');
  writeFileSync(existing, 'x');
  const keyPath = join(dir, 'out-exists.tss2.pem');
  assertOneLineFailure(t, await enroll(['--private-key', keyPath, '--subject', 'CN=x', '--out', existing]),
    `--out ${existing} already exists: remove it or name a new file (nothing was generated)`, 2);
  t.notOk(existsSync(keyPath));

  const unwritable = join(dir, 'no-such-dir', 'req.pem');
  const retried = join(dir, 'retry.tss2.pem');
  assertOneLineFailure(t, await enroll(['--private-key', retried, '--persistent-handle', '0x81000021', '--subject', 'CN=retry', '--out', unwritable]),
    `cannot write the certificate request to ${unwritable} (ENOENT): the new TPM key was removed again; choose a writable --out and run enroll again`, 2);
  t.notOk(existsSync(retried), 'the key file was removed');
  t.notOk((await persistentHandles()).includes(0x81000021), 'the handle was freed');
  const rerun = await enroll(['--private-key', retried, '--persistent-handle', '0x81000021', '--subject', 'CN=retry', '--out', join(dir, 'retry.csr')]);
  t.equal(rerun.code, 0, rerun.stderr);
});

t.test('usage: flags that need --tpm, PKCS#11 flags with it, handles, subject', async (t) => {
  // Never created: every case is refused before the TPM is touched.
  const k = join(dir, 'usage.tss2.pem');
  const usage = async (args: string[], line: string, withTpm = true): Promise<void> => {
    const result = withTpm ? await enroll(args) : await runCli(['enroll', ...args], { env: env() });
    assertOneLineFailure(t, result, line, 2);
  };
  await usage(['--private-key', k, '--persistent-handle', '0x81000030', '--subject', 'CN=x'], '--persistent-handle is for TPM keys: add --tpm', false);
  await usage(['--private-key', k, '--tpm-tcti', swtpm.tcti, '--subject', 'CN=x'], '--tpm-tcti is for TPM keys: add --tpm', false);
  await usage(['--private-key', k, '--pkcs11-lib', '/x.so', '--subject', 'CN=x'], '--pkcs11-lib is for PKCS#11 tokens: leave it out with --tpm');
  await usage(['--private-key', k, '--import-certificate', 'c.pem'], '--import-certificate is for PKCS#11 tokens: a TPM key file takes no certificate; pass the issued certificate to credential-process with --certificate (and its CAs with --intermediates)');
  await usage(['--private-key', k, '--subject', 'CN=x', '--with-chain'], '--with-chain is for PKCS#11 tokens: a TPM key file takes no certificate; pass the issued certificate to credential-process with --certificate (and its CAs with --intermediates)');
  await usage(['--private-key', k, '--subject', 'CN=x', '--intermediates', 'ca.pem'], '--intermediates is for PKCS#11 tokens: a TPM key file takes no certificate; pass the issued certificate to credential-process with --certificate (and its CAs with --intermediates)');
  await usage(['--subject', 'CN=x'], 'enroll --tpm needs --private-key FILE (the new TSS2 key file to create) or --private-key handle:0x81000010 (a persistent handle)');
  await usage(['--private-key', k], 'enroll needs --subject "CN=name,O=Organisation" for the certificate request');
  await usage(['--private-key', 'handle:0x81000030', '--persistent-handle', '0x81000031', '--subject', 'CN=x'],
    '--private-key handle:... already names the persistent handle: leave out --persistent-handle (or give a key file as --private-key to have both)');
  await usage(['--private-key', k, '--persistent-handle', '81000030', '--subject', 'CN=x'],
    '--persistent-handle 81000030 is not a TPM persistent handle: write 0x81000010 (8 hex digits; handle:0x81000010 in --private-key)');
  await usage(['--private-key', k, '--persistent-handle', '0x81800000', '--subject', 'CN=x'],
    'the persistent handle 0x81800000 is not an owner persistent handle: use one in 0x81000000-0x817FFFFF');
  await usage(['--private-key', k, '--parent-handle', '0x40000007', '--subject', 'CN=x'],
    '--parent-handle 0x40000007 is not an owner persistent handle: use one in 0x81000000-0x817FFFFF');
  await usage(['--private-key', k, '--subject', 'CN=x', '--key-type', 'ed25519'],
    '--key-type "ed25519" is not one enroll can generate: use one of ec-p256, ec-p384, rsa-2048, rsa-3072');
  await usage(['--private-key', k, '--subject', 'CN=x', '--tpm-key-password', 'a', '--no-tpm-key-password'],
    '--tpm-key-password and --no-tpm-key-password cannot be used together: give one of them');
  t.notOk(existsSync(k));
});

t.test('a TPM that does not answer: one line, no key file', async (t) => {
  const port = await freeLoopbackPort();
  const keyPath = join(dir, 'unreachable.tss2.pem');
  assertOneLineFailure(t, await enroll(['--private-key', keyPath, '--subject', 'CN=x', '--tpm-tcti', `swtpm:host=127.0.0.1,port=${port}`]),
    `nothing accepts connections at swtpm 127.0.0.1:${port} (from the TCTI setting) (ECONNREFUSED): start the TPM simulator or fix the TCTI`);
  t.notOk(existsSync(keyPath));
});
