import { sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { describeCertificate } from '../../src/certs/load.js';
import { assertKeyMatchesCertificate, publicKeyMatchesCertificate } from '../../src/keys/match.js';
import { sourcePublicKeyOf } from '../../src/keys/public-key.js';
import type { KeySource } from '../../src/keys/types.js';
import { createOpensslPki, generateTestKey, type TestKeyKind, type TestKeyPair } from '../helpers/openssl-pki.js';

/** A plain KeySource over a software key; `signWith` lets a test make it lie. */
function softwareSource(key: TestKeyPair, signWith: TestKeyPair = key, encoding: 'der' | 'ieee-p1363' = 'der'): KeySource {
  const keyType = key.kind.startsWith('RSA') ? 'RSA' : 'EC';
  return {
    keyType,
    publicKey: sourcePublicKeyOf(key.publicKey),
    description: `test key ${key.kind}`,
    async sign(message) {
      return new Uint8Array(sign('sha256', message, keyType === 'RSA' ? signWith.privateKey : { key: signWith.privateKey, dsaEncoding: encoding }));
    },
    async close() {},
  };
}

async function errorOf(promise: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  return {};
}

function mismatchMessage(keyDescription: string, certificateDer: Uint8Array): string {
  const about = describeCertificate(certificateDer);
  return `the private key ${keyDescription} does not match certificate ${about.subject} (serial ${about.serialNumberDecimal}): pass the certificate issued for this key`;
}

await t.test('assertKeyMatchesCertificate', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'keys-match-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pki = await createOpensslPki(dir);
  const ca = await pki.createCa({ subject: '/CN=Match CA' });

  for (const kind of ['RSA-2048', 'EC-P256', 'EC-P384'] as const satisfies readonly TestKeyKind[]) {
    await t.test(kind, async (t: Test) => {
      const key = generateTestKey(kind);
      const other = generateTestKey(kind);
      const certificate = (await pki.issueLeaf({ subject: `/CN=match ${kind}/O=Example`, issuer: ca, publicKey: key.publicKey, serialHex: '0A0B0C' })).certificateDer;
      const otherCertificate = (await pki.issueLeaf({ subject: `/CN=other ${kind}`, issuer: ca, publicKey: other.publicKey })).certificateDer;

      await t.resolves(assertKeyMatchesCertificate(softwareSource(key), certificate), 'the right certificate passes');
      t.ok(publicKeyMatchesCertificate(key.publicKey, certificate), 'publicKeyMatchesCertificate: same key');
      t.notOk(publicKeyMatchesCertificate(key.publicKey, otherCertificate), 'publicKeyMatchesCertificate: other key');

      const wrongCertificate = await errorOf(assertKeyMatchesCertificate(softwareSource(key), otherCertificate));
      t.equal(wrongCertificate.code, 'CERT_KEY_MISMATCH');
      t.equal(wrongCertificate.message, mismatchMessage(`test key ${kind}`, otherCertificate), 'names key, subject and serial');

      const withDescription = await errorOf(assertKeyMatchesCertificate(softwareSource(key), otherCertificate, 'pkcs11:token=T;object=k'));
      t.equal(withDescription.message, mismatchMessage('pkcs11:token=T;object=k', otherCertificate), 'the description given is used');

      // Hardware that reports the certificate's public key but signs with another key.
      const liar = await errorOf(assertKeyMatchesCertificate(softwareSource(key, other), certificate));
      t.equal(liar.code, 'CERT_KEY_MISMATCH', 'a source that lies about its public key is caught by the test signature');
      t.equal(liar.message, mismatchMessage(`test key ${kind}`, certificate));
    });
  }

  await t.test('an EC source that returns raw r||s is not accepted', async (t) => {
    const key = generateTestKey('EC-P256');
    const certificate = (await pki.issueLeaf({ subject: '/CN=raw', issuer: ca, publicKey: key.publicKey })).certificateDer;
    const error = await errorOf(assertKeyMatchesCertificate(softwareSource(key, key, 'ieee-p1363'), certificate));
    t.equal(error.code, 'CERT_KEY_MISMATCH');
  });

  await t.test('the message spells out an empty subject', async (t) => {
    const key = generateTestKey('EC-P256');
    const certificate = (await pki.issueLeaf({ subject: '/', issuer: ca, publicKey: generateTestKey('EC-P256').publicKey, serialHex: '2A' })).certificateDer;
    const error = await errorOf(assertKeyMatchesCertificate(softwareSource(key), certificate));
    t.equal(error.message, 'the private key test key EC-P256 does not match certificate (empty subject) (serial 42): pass the certificate issued for this key');
  });

  await t.test('a certificate that does not parse', async (t) => {
    const key = generateTestKey('EC-P256');
    const error = await errorOf(assertKeyMatchesCertificate(softwareSource(key), new Uint8Array([1, 2, 3])));
    t.equal(error.code, 'CERT_INVALID');
    t.equal(error.message, 'the certificate is not a valid X.509 certificate: pass a PEM or DER certificate');
    t.notOk(publicKeyMatchesCertificate(key.publicKey, new Uint8Array([1, 2, 3])), 'publicKeyMatchesCertificate is false, not a throw');
  });
});
