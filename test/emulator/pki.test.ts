import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { inspectCertificate } from '../../src/certs/rules.js';
import { createCertificateAuthority, derToPem, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

const execFileAsync = promisify(execFile);

t.test('root -> intermediate -> leaf verifies with node and with openssl verify', async (t) => {
  const root = await createCertificateAuthority({ subject: 'CN=PKI Root,O=Test', keyAlgorithm: 'RSA-3072' });
  const intermediate = await createCertificateAuthority({ subject: 'CN=PKI Issuing', keyAlgorithm: 'EC-P384', issuer: root, pathLength: 0 });
  const key = generateKeyPair('EC-P256');
  const leaf = await issueLeafCertificate({ issuer: intermediate, subject: 'CN=pki-leaf', publicKey: key.publicKey });

  const rootX509 = new X509Certificate(root.certificatePem);
  const intermediateX509 = new X509Certificate(intermediate.certificatePem);
  const leafX509 = new X509Certificate(leaf.certificatePem);
  t.ok(rootX509.verify(rootX509.publicKey), 'root is self-signed');
  t.ok(intermediateX509.verify(rootX509.publicKey));
  t.ok(leafX509.verify(intermediateX509.publicKey));
  t.ok(leafX509.checkPrivateKey(createPrivateKey(key.privateKeyPem)), 'leaf certifies the key pair');
  t.equal(leafX509.serialNumber.toLowerCase(), leaf.serialNumberHex);
  t.equal(leaf.serialNumberHex.length, 32);
  t.equal(Buffer.from(leaf.certificateDer).toString('base64'), leafX509.raw.toString('base64'));

  const dir = await mkdtemp(join(tmpdir(), 'emulator-pki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'root.pem'), root.certificatePem);
  await writeFile(join(dir, 'intermediate.pem'), intermediate.certificatePem);
  await writeFile(join(dir, 'leaf.pem'), leaf.certificatePem);
  const { stdout } = await execFileAsync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'intermediate.pem'), join(dir, 'leaf.pem')]);
  t.equal(stdout.trim(), `${join(dir, 'leaf.pem')}: OK`);

  t.equal(inspectCertificate(intermediate.certificateDer).pathLength, 0);
  t.equal(inspectCertificate(leaf.certificateDer).isCA, false);
  t.equal(inspectCertificate(leaf.certificateDer).keyUsage, 1, 'digitalSignature only');
  t.equal(inspectCertificate(root.certificateDer).keyUsage, 32 | 64, 'keyCertSign and cRLSign');
});

t.test('the public key may be a KeyObject, SPKI DER or PEM; validity and serial as asked', async (t) => {
  const ca = await createCertificateAuthority({ subject: 'CN=Forms', keyAlgorithm: 'EC-P256' });
  const key = generateKeyPair('RSA-2048');
  const spkiDer = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }));
  const spkiPem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const notBefore = new Date('2030-01-02T03:04:05Z');
  const notAfter = new Date('2030-02-02T03:04:05Z');
  for (const publicKey of [key.publicKey, spkiDer, spkiPem, createPrivateKey(key.privateKeyPem)]) {
    const leaf = await issueLeafCertificate({ issuer: ca, subject: 'CN=forms', publicKey, notBefore, notAfter, serialNumber: '0a1b2c' });
    const x509 = new X509Certificate(leaf.certificateDer);
    t.ok(x509.publicKey.equals(createPublicKey(key.privateKeyPem)));
    t.equal(leaf.serialNumberHex, '0a1b2c');
    t.equal(new Date(x509.validFrom).toISOString(), notBefore.toISOString());
    t.equal(new Date(x509.validTo).toISOString(), notAfter.toISOString());
  }
  await t.rejects(issueLeafCertificate({ issuer: ca, subject: 'CN=x', publicKey: 'not a key' }), {
    code: 'KEY_INVALID',
    message: 'the public key to certify is neither a KeyObject, SPKI DER nor a PEM public key; export it as SPKI',
  });
});

t.test('weak-hash certificates for tests; MD5 only from RSA issuers', async (t) => {
  const rsa = await createCertificateAuthority({ subject: 'CN=RSA', keyAlgorithm: 'RSA-2048' });
  const ec = await createCertificateAuthority({ subject: 'CN=EC', keyAlgorithm: 'EC-P256' });
  const key = generateKeyPair('EC-P256');
  const md5 = await issueLeafCertificate({ issuer: rsa, subject: 'CN=md5', publicKey: key.publicKey, signatureHash: 'MD5' });
  t.equal(inspectCertificate(md5.certificateDer).signatureAlgorithm.name, 'md5WithRSAEncryption');
  t.ok(new X509Certificate(md5.certificateDer).verify(new X509Certificate(rsa.certificatePem).publicKey), 'still a valid signature');
  const v1 = await issueLeafCertificate({ issuer: ec, subject: 'CN=v1', publicKey: key.publicKey, x509Version: 1 });
  t.equal(inspectCertificate(v1.certificateDer).version, 1);
  t.ok(new X509Certificate(v1.certificateDer).verify(new X509Certificate(ec.certificatePem).publicKey));
  await t.rejects(issueLeafCertificate({ issuer: ec, subject: 'CN=x', publicKey: key.publicKey, signatureHash: 'MD5' }), {
    code: 'NOT_SUPPORTED',
    message: 'MD5 signatures exist only for RSA issuers; use an RSA CA or SHA-1 for a weak-hash test',
  });
});

t.test('derToPem wraps at 64 columns', async (t) => {
  const pem = derToPem(new Uint8Array(100).fill(7));
  const lines = pem.trim().split('\n');
  t.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  t.equal(lines[1]?.length, 64);
  t.equal(lines.at(-1), '-----END CERTIFICATE-----');
});
