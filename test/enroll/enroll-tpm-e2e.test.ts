/**
 * enroll --tpm end to end on swtpm: the real CLI creates the key inside the TPM, OpenSSL (the
 * test CA) issues a certificate for the request, and credential-process gets credentials from
 * the emulator with the new key file or persistent handle.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { TPMA_OBJECT, TPM_ALG } from '../../src/keys/tpm/constants.js';
import { parseTss2KeyFile } from '../../src/keys/tpm/keyfile.js';
import { runTool } from '../../scripts/fixtures/swtpm.js';
import { execFileAsync, PROCESS_JSON, startTpmEnrollRig } from './enroll-tpm-rig.js';

const { dir, swtpm, enroll, issue, credentials, readBackKeyFile, readBackHandle, persistentHandles, env } = await startTpmEnrollRig(t);

const SIGNING_ATTRIBUTES = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth | TPMA_OBJECT.sign;

interface TpmReport {
  privateKey: string;
  keyFile?: string;
  persistentHandle?: string;
  parent: string;
  keyType: string;
  passwordProtected: boolean;
  attributes: Record<string, boolean>;
  csrFile?: string;
  nextSteps: string[];
}

t.test('each key type: a key file made inside the TPM (0600), a request OpenSSL verifies, credentials from the emulator', async (t) => {
  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072']) {
    const keyPath = join(dir, `${keyType}.tss2.pem`);
    const csrPath = join(dir, `${keyType}.csr`);
    const result = await enroll(['--private-key', keyPath, '--key-type', keyType, '--subject', `CN=tpm-${keyType},O=Example`, '--out', csrPath, '--json']);
    t.equal(result.stderr, '', `${keyType}: nothing on stderr`);
    t.equal(result.code, 0, `${keyType}: exit 0`);
    const report = JSON.parse(result.stdout) as TpmReport;
    t.same(
      { privateKey: report.privateKey, keyFile: report.keyFile, parent: report.parent, keyType: report.keyType, passwordProtected: report.passwordProtected, csrFile: report.csrFile },
      { privateKey: keyPath, keyFile: keyPath, parent: '0x40000001', keyType, passwordProtected: false, csrFile: csrPath },
    );
    t.same(report.attributes, { fixedTPM: true, fixedParent: true, sensitiveDataOrigin: true, userWithAuth: true, sign: true, decrypt: false, restricted: false });
    t.equal(report.nextSteps.length, 2);
    t.match(report.nextSteps[1], `credential_process = roles-anywhere-signer credential-process --certificate cert.pem --private-key ${keyPath} --trust-anchor-arn`);
    t.equal(statSync(keyPath).mode & 0o777, 0o600, `${keyType}: the key file is 0600`);

    const file = parseTss2KeyFile(await readFile(keyPath), keyPath);
    t.same([file.emptyAuth, file.parent], [true, 0x40000001], `${keyType}: emptyAuth TRUE, parent the owner hierarchy`);
    const readBack = await readBackKeyFile(keyPath);
    t.equal(readBack.publicArea.objectAttributes, SIGNING_ATTRIBUTES, `${keyType}: the TPM says fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign: it cannot be duplicated off this TPM`);
    t.equal(readBack.publicArea.type, keyType.startsWith('ec') ? TPM_ALG.ECC : TPM_ALG.RSA);

    const { stdout, stderr } = await execFileAsync('openssl', ['req', '-in', csrPath, '-verify', '-noout', '-subject']);
    t.match(`${stderr}${stdout}`, /verify OK/, `${keyType}: OpenSSL verifies the request`);
    t.match(stdout, `subject=O = Example, CN = tpm-${keyType}`);

    const certificatePath = join(dir, `${keyType}.crt`);
    await issue(csrPath, certificatePath);
    const issued = await credentials(t, certificatePath, keyPath);
    t.equal(issued.stderr, '', `${keyType}: credential-process, nothing on stderr`);
    t.match(issued.stdout, PROCESS_JSON, `${keyType}: credentials`);
  }
});

t.test('tpm2-openssl reads the key file enroll wrote and finds the same public key as the request', async (t) => {
  const keyPath = join(dir, 'ec-p256.tss2.pem');
  const tools = { TPM2OPENSSL_TCTI: swtpm.tcti };
  const fromProvider = await runTool('openssl', ['pkey', '-provider', 'tpm2', '-provider', 'default', '-in', keyPath, '-passin', 'pass:', '-pubout'], tools);
  const fromRequest = (await execFileAsync('openssl', ['req', '-in', join(dir, 'ec-p256.csr'), '-pubkey', '-noout'])).stdout;
  t.equal(fromProvider, fromRequest);
});

t.test('a password from ROLES_ANYWHERE_TPM_KEY_PASSWORD or --tpm-key-password: emptyAuth left out, signing needs it, never echoed', async (t) => {
  const password = 'enroll-secret-1';
  const keyPath = join(dir, 'password.tss2.pem');
  const csrPath = join(dir, 'password.csr');
  const result = await enroll(['--private-key', keyPath, '--subject', 'CN=tpm-password', '--out', csrPath], env({ ROLES_ANYWHERE_TPM_KEY_PASSWORD: password }));
  t.equal(result.code, 0, result.stderr);
  t.notMatch(result.stdout + result.stderr, password, 'the password appears nowhere');
  t.match(result.stdout, /^Created EC P-256 key inside the TPM at swtpm 127\.0\.0\.1:\d+, saved in .*password\.tss2\.pem \(mode 0600\); password protected\n {2}fixedTPM true, fixedParent true \(it cannot be duplicated off this TPM\); parent 0x40000001\n/);
  t.match(result.stdout, 'In ~/.aws/config (with ROLES_ANYWHERE_TPM_KEY_PASSWORD set): credential_process');
  t.equal(parseTss2KeyFile(await readFile(keyPath), keyPath).emptyAuth, false, 'the file says the key has a password');
  const certificatePath = join(dir, 'password.crt');
  await issue(csrPath, certificatePath);
  const withPassword = await credentials(t, certificatePath, keyPath, [], env({ ROLES_ANYWHERE_TPM_KEY_PASSWORD: password }));
  t.match(withPassword.stdout, PROCESS_JSON, 'credentials with the password');
  const without = await credentials(t, certificatePath, keyPath);
  t.equal(without.stderr, `roles-anywhere-signer: Password for TPM key ${keyPath} is needed but there is no terminal to ask on: pass --tpm-key-password, set ROLES_ANYWHERE_TPM_KEY_PASSWORD, or pass --no-tpm-key-password if the key has no password\n`);

  const flagged = join(dir, 'flag-password.tss2.pem');
  const fromFlag = await enroll(['--private-key', flagged, '--subject', 'CN=tpm-flag', '--tpm-key-password', password, '--out', join(dir, 'flag.csr'), '--json', '--debug']);
  t.match(fromFlag.stderr, /^debug: TPM at swtpm 127\.0\.0\.1:\d+; creating EC P-256 under the owner hierarchy's storage key \(SRK\)\n/, '--debug explains the steps');
  t.equal(fromFlag.code, 0, fromFlag.stderr);
  t.notMatch(fromFlag.stdout + fromFlag.stderr, password);
  t.equal((JSON.parse(fromFlag.stdout) as TpmReport).passwordProtected, true);
  const none = join(dir, 'no-password.tss2.pem');
  const forcedNone = await enroll(['--private-key', none, '--subject', 'CN=tpm-none', '--no-tpm-key-password', '--out', join(dir, 'none.csr')], env({ ROLES_ANYWHERE_TPM_KEY_PASSWORD: password }));
  t.equal(forcedNone.code, 0, forcedNone.stderr);
  t.equal(parseTss2KeyFile(await readFile(none), none).emptyAuth, true, '--no-tpm-key-password wins over the variable');
});

t.test('persistent: a key file and a handle at once, a handle alone, and a key under a persistent parent', async (t) => {
  const keyPath = join(dir, 'persistent.tss2.pem');
  const csrPath = join(dir, 'persistent.csr');
  const both = await enroll(['--private-key', keyPath, '--persistent-handle', '0x81000010', '--subject', 'CN=tpm-persistent', '--out', csrPath]);
  t.equal(both.code, 0, both.stderr);
  t.match(both.stdout, /saved in .*persistent\.tss2\.pem \(mode 0600\), persistent at handle:0x81000010; no password\n/);
  t.ok((await persistentHandles()).includes(0x81000010), 'the TPM lists the handle');
  const readBack = await readBackHandle(0x81000010);
  t.equal(readBack.publicArea.objectAttributes, SIGNING_ATTRIBUTES, 'fixedTPM and fixedParent, read from the TPM');
  const certificatePath = join(dir, 'persistent.crt');
  await issue(csrPath, certificatePath);
  t.match((await credentials(t, certificatePath, 'handle:0x81000010', ['--no-tpm-key-password'])).stdout, PROCESS_JSON, 'credentials with the handle');
  t.match((await credentials(t, certificatePath, keyPath)).stdout, PROCESS_JSON, 'and with the file: the same key');

  const handleOnly = await enroll(['--private-key', 'handle:0x81000011', '--key-type', 'rsa-2048', '--subject', 'CN=tpm-handle', '--out', join(dir, 'handle.csr'), '--json']);
  t.equal(handleOnly.code, 0, handleOnly.stderr);
  const report = JSON.parse(handleOnly.stdout) as TpmReport;
  t.same([report.privateKey, report.persistentHandle, report.keyFile], ['handle:0x81000011', 'handle:0x81000011', undefined]);
  t.match(report.nextSteps[1], '--private-key handle:0x81000011 --no-tpm-key-password --trust-anchor-arn');
  await issue(join(dir, 'handle.csr'), join(dir, 'handle.crt'));
  t.match((await credentials(t, join(dir, 'handle.crt'), 'handle:0x81000011', ['--no-tpm-key-password'])).stdout, PROCESS_JSON);

  // A storage key made persistent with tpm2-tools, as an administrator would.
  const tools = { TPM2TOOLS_TCTI: swtpm.tcti };
  await runTool('tpm2_createprimary', ['-C', 'o', '-G', 'ecc256:aes128cfb', '-c', join(dir, 'parent.ctx')], tools);
  await runTool('tpm2_evictcontrol', ['-C', 'o', '-c', join(dir, 'parent.ctx'), '0x81000001'], tools);
  await runTool('tpm2_flushcontext', ['-t'], tools);
  const underParent = join(dir, 'under-parent.tss2.pem');
  const child = await enroll(['--private-key', underParent, '--parent-handle', '0x81000001', '--persistent-handle', '0x81000012', '--subject', 'CN=tpm-child', '--out', join(dir, 'child.csr'), '--json']);
  t.equal(child.code, 0, child.stderr);
  t.equal((JSON.parse(child.stdout) as TpmReport).parent, '0x81000001');
  t.equal(parseTss2KeyFile(await readFile(underParent), underParent).parent, 0x81000001, 'the file names the persistent parent');
  await issue(join(dir, 'child.csr'), join(dir, 'child.crt'));
  t.match((await credentials(t, join(dir, 'child.crt'), underParent)).stdout, PROCESS_JSON, 'the file, loaded under the persistent parent');
  t.match((await credentials(t, join(dir, 'child.crt'), 'handle:0x81000012', ['--no-tpm-key-password'])).stdout, PROCESS_JSON, 'the same key made persistent');
});

t.test('without --out the request alone goes to stdout and the report to stderr', async (t) => {
  const keyPath = join(dir, 'piped.tss2.pem');
  const result = await enroll(['--private-key', keyPath, '--subject', 'CN=piped']);
  t.equal(result.code, 0);
  t.match(result.stdout, /^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n$/);
  t.match(result.stderr, /^Created EC P-256 key inside the TPM at .*\n {2}fixedTPM true.*\n {2}key: .*piped\.tss2\.pem\nCertificate request printed on stdout\nNext steps:\n {2}1\. /);
  t.ok(existsSync(keyPath));
});
