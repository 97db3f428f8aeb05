import { X509Certificate, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { generateKeyPair, issueLeafCertificate } from '../../../src/emulator/pki.js';
import { openPkcs11KeySource } from '../../../src/keys/pkcs11/source.js';
import { openTpmKeySource } from '../../../src/keys/tpm/source.js';
import type { KeySource } from '../../../src/keys/types.js';
import { createTpmKeys } from '../../../scripts/fixtures/swtpm.js';
import { createTpm2Pkcs11Token, findTpm2Pkcs11Module, missingTpm2Pkcs11Prerequisites, type Tpm2Pkcs11Token } from '../../../scripts/fixtures/tpm2-pkcs11.js';
import { isolatedEnv, runCli } from '../../helpers/cli.js';
import { startRig, type Rig } from '../../helpers/emulator-rig.js';
import { runKeySourceConformance } from '../conformance.js';
import { noTerminalSecretIO, swtpmFor, tempDir, transientHandles } from './rig.js';

/**
 * Interop: one key made by tpm2-openssl, linked into a tpm2-pkcs11 token, signs through our TPM
 * source (the key file) and through our PKCS#11 source (the real libtpm2_pkcs11.so), both
 * checked against the one certificate the emulator's CA issued for it. No tpm2-abrmd: the
 * fixture and the module talk to swtpm directly.
 */

const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;

const missing = missingTpm2Pkcs11Prerequisites();
const skip = missing.length > 0 ? `tpm2-pkcs11 interop needs ${missing.join(', ')}` : false;

function spki(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('hex');
}

/** The module reads TPM2_PKCS11_STORE/TCTI when it is initialized, from this process's environment. */
function useTokenEnvironment(t: Test, token: Tpm2Pkcs11Token): void {
  const saved = Object.keys(token.env).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, token.env);
  t.teardown(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

t.test('one TPM key signs through the TPM source and through tpm2-pkcs11', { skip }, async (t) => {
  const modulePath = findTpm2Pkcs11Module() as string;
  const rig: Rig = await startRig();
  t.teardown(() => rig.close());
  const dir = tempDir(t, 'tpm2-pkcs11');
  const swtpm = await swtpmFor(t, { mode: 'tcp', stateDir: join(dir, 'state') });
  // Leaves issued by the emulator's intermediate, so credential-process can use them too.
  const tpm = await createTpmKeys(swtpm, join(dir, 'keys'), ['ec-p256', 'rsa-2048'], rig.intermediate);
  const linked = (['ec-p256', 'rsa-2048'] as const).map((name) => {
    const key = tpm.keys[name];
    if (key?.keyPath === undefined) throw new Error(`the swtpm fixture made no ${name} key file`);
    return key;
  });
  const token = await createTpm2Pkcs11Token({
    tcti: swtpm.tcti,
    storeDir: join(dir, 'store'),
    keys: linked.map((key) => ({ label: key.name, keyPath: key.keyPath as string, certificatePath: key.certificatePath })),
  });
  t.same(await transientHandles(swtpm), [], 'building the token leaves no transient object in the TPM');
  useTokenEnvironment(t, token);
  const intermediatesPath = join(dir, 'intermediate.pem');
  writeFileSync(intermediatesPath, rig.intermediate.certificatePem);

  for (const [index, key] of linked.entries()) {
    const onToken = token.keys[index];
    if (onToken === undefined) throw new Error(`the token has no ${key.name}`);
    const other = await issueLeafCertificate({ issuer: rig.intermediate, subject: `CN=other ${key.name}`, publicKey: generateKeyPair(key.keyType === 'EC' ? 'EC-P256' : 'RSA-2048').publicKey });
    const expectations = { keyType: key.keyType, certificateDer: key.certificateDer, otherCertificateDer: other.certificateDer };

    const openTpm = (): Promise<KeySource> =>
      openTpmKeySource({ kind: 'tpm', keyFile: key.keyPath as string, password: {}, noPassword: false, tcti: swtpm.tcti }, { io: { secretIO: noTerminalSecretIO() } });
    const openPkcs11 = (): Promise<KeySource> =>
      openPkcs11KeySource({ kind: 'pkcs11', certificateUri: onToken.certificateUri, modulePath, pin: { value: token.userPin }, reusePin: false }, { secretIO: noTerminalSecretIO() });

    await runKeySourceConformance(t, `${key.name} through the TPM source (key file)`, openTpm, expectations);
    await runKeySourceConformance(t, `${key.name} through the PKCS#11 source (libtpm2_pkcs11.so)`, openPkcs11, { ...expectations, secrets: [token.userPin] });

    await t.test(`${key.name}: both sources hold the same key and the token holds its certificate`, async (t) => {
      const viaTpm = await openTpm();
      const tpmKey = Buffer.from(viaTpm.publicKey.spki).toString('hex');
      await viaTpm.close();
      const viaPkcs11 = await openPkcs11();
      t.teardown(() => viaPkcs11.close());
      t.equal(Buffer.from(viaPkcs11.publicKey.spki).toString('hex'), tpmKey, 'the PKCS#11 public key is the TPM key');
      t.equal(tpmKey, spki(new X509Certificate(key.certificateDer).publicKey), 'and the certificate certifies it');
      t.same(Buffer.from(viaPkcs11.certificate ?? []).toString('hex'), Buffer.from(key.certificateDer).toString('hex'), 'the certificate read from the token is the one the fixture added');
    });
  }

  await t.test('credential-process with the pkcs11: URI gets credentials from the emulator', async (t) => {
    const childEnv = isolatedEnv({ ...token.env, ROLES_ANYWHERE_PIN: token.userPin });
    for (const onToken of token.keys) {
      const before = rig.stats.createSession;
      const result = await runCli(
        ['credential-process', '--pkcs11-lib', modulePath, '--certificate', onToken.certificateUri, '--private-key', onToken.keyUri, '--intermediates', intermediatesPath, ...rig.sessionFlags],
        { env: childEnv },
      );
      t.equal(result.stderr, '', `${onToken.label}: nothing on stderr`);
      t.equal(result.code, 0, `${onToken.label}: exit code 0`);
      t.match(result.stdout, PROCESS_JSON, `${onToken.label}: credential_process JSON`);
      t.notOk(result.stdout.includes(token.userPin) || result.stderr.includes(token.userPin), `${onToken.label}: the PIN is not printed`);
      t.equal(rig.stats.createSession, before + 1, `${onToken.label}: exactly one CreateSession`);
    }
  });

  t.same(await transientHandles(swtpm), [], 'with every source closed and every CLI run over, tpm2-pkcs11 left no transient object in the TPM');
});
