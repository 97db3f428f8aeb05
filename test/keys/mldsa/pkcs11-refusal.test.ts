import t from 'tap';
import { openPkcs11KeySource } from '../../../src/keys/pkcs11/source.js';
import { createCertificateAuthority, generateMlDsaKeyPair, issueLeafCertificate } from '../../../src/emulator/pki.js';
import { buildSoftHsmFixture, storeRawCertificate } from '../pkcs11/softhsm-fixture.js';

/**
 * A token can store an ML-DSA certificate (a certificate object is only bytes), beside a key
 * that shares its CKA_ID; no module here can sign with ML-DSA, so the source refuses in one line.
 */
t.test('an ML-DSA certificate on a SoftHSM token: NOT_SUPPORTED, naming the reason', async (t) => {
  const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
  const ca = await createCertificateAuthority({ subject: 'CN=PQ token CA', keyAlgorithm: 'ML-DSA-65' });
  const key = await generateMlDsaKeyPair('ML-DSA-87');
  const certificate = await issueLeafCertificate({ issuer: ca, subject: 'CN=pq-on-token', publicKey: key.publicKey });
  const id = fixture.key('ec-p256').id;
  storeRawCertificate(fixture, fixture.tokenLabel, { label: 'pq-cert', id, value: certificate.certificateDer });
  let caught: { code?: string; message?: string } | undefined;
  try {
    const source = await openPkcs11KeySource({ kind: 'pkcs11', modulePath: fixture.module, pin: { value: fixture.pin }, reusePin: false, certificateUri: `pkcs11:token=${fixture.tokenLabel};object=pq-cert;type=cert` });
    await source.close();
  } catch (error) {
    caught = error as { code?: string; message?: string };
  }
  t.equal(caught?.code, 'NOT_SUPPORTED');
  t.equal(caught?.message, `the certificate ${fixture.tokenUri};object=pq-cert;type=cert;id=%${id.toUpperCase()} is for an ML-DSA-87 key, which cannot sign through PKCS#11: no PKCS#11 module here offers ML-DSA keys (CKK_ML_DSA) and the CKM_ML_DSA mechanism of PKCS#11 3.2; keep the ML-DSA key in a file and pass it with --private-key`);
});
