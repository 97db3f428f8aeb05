import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { initEmulatorDirectory } from '../../src/emulator/init.js';
import { loadCertificateAuthority } from '../../src/emulator/load-ca.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';
import type { CertificateAuthority } from '../../src/emulator/pki.js';
import { loadMlDsaVerifier } from '../../src/emulator/mldsa.js';
import { validateCertificatePath } from '../../src/emulator/path-validation.js';

async function scratch(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'load-ca-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const ISSUER_EXPECTED =
  'issuer must be a CertificateAuthority object: the result of createCertificateAuthority() or loadCertificateAuthority(dir) (subject, keyAlgorithm, certificatePem, privateKeyPem)';

t.test('the CA that emulate --init writes loads and issues leaves that chain to it', async (t) => {
  const dir = await scratch(t);
  const init = await initEmulatorDirectory(join(dir, 'emu'));
  const ca = await loadCertificateAuthority(init.directory);
  t.equal(ca.subject, 'CN=roles-anywhere-signer emulator CA (throwaway)');
  t.equal(ca.keyAlgorithm, 'EC-P256');
  const caX509 = new X509Certificate(ca.certificatePem);
  t.equal(ca.serialNumberHex, caX509.serialNumber.toLowerCase());
  t.equal(Buffer.from(ca.certificateDer).toString('base64'), caX509.raw.toString('base64'));
  t.ok(ca.notBefore < ca.notAfter);

  const key = generateKeyPair('EC-P384');
  const leaf = await issueLeafCertificate({ issuer: ca, subject: 'CN=workload', publicKey: key.publicKey });
  const leafX509 = new X509Certificate(leaf.certificatePem);
  t.ok(leafX509.verify(caX509.publicKey), 'the leaf is signed by the loaded CA key');
  t.equal(leafX509.issuer, caX509.subject, 'and names the CA as its issuer');
  t.ok(leafX509.checkPrivateKey(createPrivateKey(key.privateKeyPem)));
});

t.test('an RSA CA under other file names loads too', async (t) => {
  const dir = await scratch(t);
  const made = await createCertificateAuthority({ subject: 'CN=Other,O=Example', keyAlgorithm: 'RSA-2048' });
  await writeFile(join(dir, 'root.crt'), made.certificatePem);
  await writeFile(join(dir, 'root.key'), made.privateKeyPem);
  const ca = await loadCertificateAuthority(dir, { certificateFile: 'root.crt', privateKeyFile: 'root.key' });
  t.equal(ca.keyAlgorithm, 'RSA-2048');
  t.equal(ca.subject, 'CN=Other, O=Example');
  t.equal(ca.serialNumberHex, made.serialNumberHex);
});

t.test('what is wrong with the directory is said, with the file', async (t) => {
  const dir = await scratch(t);
  await t.rejects(loadCertificateAuthority(dir), {
    code: 'CERT_NOT_FOUND',
    message: `cannot read the CA certificate ${join(dir, 'ca.pem')} (ENOENT): pass the directory emulate --init wrote`,
  });
  const one = await createCertificateAuthority({ subject: 'CN=One', keyAlgorithm: 'EC-P256' });
  const two = await createCertificateAuthority({ subject: 'CN=Two', keyAlgorithm: 'EC-P256' });
  await writeFile(join(dir, 'ca.pem'), one.certificatePem);
  await t.rejects(loadCertificateAuthority(dir), {
    code: 'KEY_NOT_FOUND',
    message: `cannot read the CA private key ${join(dir, 'ca.key')} (ENOENT): pass the directory emulate --init wrote`,
  });
  await writeFile(join(dir, 'ca.key'), two.privateKeyPem);
  await t.rejects(loadCertificateAuthority(dir), {
    code: 'CERT_KEY_MISMATCH',
    message: `${join(dir, 'ca.key')} is not the private key of ${join(dir, 'ca.pem')}: pass the key that belongs to this CA certificate`,
  });
  await writeFile(join(dir, 'ca.key'), 'not a key\n');
  await t.rejects(loadCertificateAuthority(dir), {
    code: 'KEY_INVALID',
    message: `${join(dir, 'ca.key')} is not an unencrypted PEM private key: pass the CA key (ca.key from emulate --init)`,
  });
  const key = generateKeyPair('EC-P256');
  const leaf = await issueLeafCertificate({ issuer: one, subject: 'CN=leaf', publicKey: key.publicKey });
  await writeFile(join(dir, 'ca.pem'), leaf.certificatePem);
  await t.rejects(loadCertificateAuthority(dir), {
    code: 'CERT_INVALID',
    message: `${join(dir, 'ca.pem')} is not a CA certificate (basicConstraints CA is not true): pass the certificate of the issuing CA`,
  });
});

t.test('a wrong issuer argument is a SignerError naming what is expected, not a TypeError', async (t) => {
  const made = await createCertificateAuthority({ subject: 'CN=Test CA', keyAlgorithm: 'EC-P256' });
  const key = generateKeyPair('EC-P256');
  // What the old guide suggested: the PEM texts alone.
  const pemsOnly = { certificatePem: made.certificatePem, privateKey: made.privateKeyPem } as unknown as CertificateAuthority;
  await t.rejects(issueLeafCertificate({ issuer: pemsOnly, subject: 'CN=x', publicKey: key.publicKey }), {
    name: 'SignerError',
    code: 'USAGE',
    message: `issueLeafCertificate: ${ISSUER_EXPECTED}`,
  });
  await t.rejects(issueLeafCertificate({ issuer: undefined as unknown as CertificateAuthority, subject: 'CN=x', publicKey: key.publicKey }), {
    code: 'USAGE',
    message: `issueLeafCertificate: ${ISSUER_EXPECTED}`,
  });
  await t.rejects(createCertificateAuthority({ subject: 'CN=Sub', keyAlgorithm: 'EC-P256', issuer: 'ca.pem' as unknown as CertificateAuthority }), {
    code: 'USAGE',
    message: `createCertificateAuthority: ${ISSUER_EXPECTED}`,
  });
});

t.test('an ML-DSA CA (emulate --init --key-type ml-dsa-65) loads, issues leaves, and refuses a key of another CA', async (t) => {
  const dir = await scratch(t);
  const made = await createCertificateAuthority({ subject: 'CN=PQ Root', keyAlgorithm: 'ML-DSA-65' });
  await writeFile(join(dir, 'ca.pem'), made.certificatePem);
  await writeFile(join(dir, 'ca.key'), made.privateKeyPem);
  const ca = await loadCertificateAuthority(dir);
  t.equal(ca.keyAlgorithm, 'ML-DSA-65');
  t.equal(ca.subject, 'CN=PQ Root');
  t.equal(ca.serialNumberHex, made.serialNumberHex);

  const key = generateKeyPair('EC-P256');
  const leaf = await issueLeafCertificate({ issuer: ca, subject: 'CN=pq-workload', publicKey: key.publicKey });
  const verify = await loadMlDsaVerifier();
  const chain = validateCertificatePath(new Uint8Array(new X509Certificate(leaf.certificatePem).raw), [], [new Uint8Array(new X509Certificate(made.certificatePem).raw)], new Date(), verify);
  t.equal(chain.ok, true, 'the leaf chains to the loaded ML-DSA CA');

  const other = await createCertificateAuthority({ subject: 'CN=Other PQ Root', keyAlgorithm: 'ML-DSA-65' });
  await writeFile(join(dir, 'ca.key'), other.privateKeyPem);
  await t.rejects(loadCertificateAuthority(dir), { code: 'CERT_KEY_MISMATCH', message: `${join(dir, 'ca.key')} is not the private key of ${join(dir, 'ca.pem')}: pass the key that belongs to this CA certificate` });
});
