import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import t from 'tap';
import { KEY_USAGE, decodeKeyUsage, parseCertificateDer } from '../../src/certs/x509.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

// The ASN.1 schema package and OpenSSL are the independent readers the DER parser is held to.
const root = await createCertificateAuthority({ subject: 'CN=X509 Root,O=Example', keyAlgorithm: 'EC-P256' });
const leafKey = generateKeyPair('RSA-2048');

t.test('parseCertificateDer agrees with the ASN.1 schema and OpenSSL', async (t) => {
  for (const [label, notAfter] of [['UTCTime', new Date('2040-05-06T07:08:09Z')], ['GeneralizedTime (2050 and later)', new Date('2061-02-03T04:05:06Z')]] as const) {
    const issued = await issueLeafCertificate({ issuer: root, subject: 'CN=leaf', publicKey: leafKey.publicKey, notAfter });
    const parsed = parseCertificateDer(issued.certificateDer);
    const schema = AsnConvert.parse(issued.certificateDer, Certificate);
    const openssl = new NodeX509Certificate(issued.certificateDer);
    t.equal(parsed.version, 3, label);
    t.equal(parsed.notAfter.toISOString(), notAfter.toISOString(), `${label}: notAfter`);
    t.equal(parsed.notBefore.getTime(), new Date(openssl.validFrom).getTime(), `${label}: notBefore`);
    t.equal(Buffer.from(parsed.serialNumber).toString('hex'), Buffer.from(schema.tbsCertificate.serialNumber).toString('hex'));
    t.same(Buffer.from(parsed.subjectPublicKeyInfo), Buffer.from(AsnConvert.serialize(schema.tbsCertificate.subjectPublicKeyInfo)));
    t.same(Buffer.from(parsed.issuer), Buffer.from(AsnConvert.serialize(schema.tbsCertificate.issuer)));
    t.equal(parsed.publicKeyAlgorithmOid, '1.2.840.113549.1.1.1');
    t.equal(parsed.signatureAlgorithmOid, '1.2.840.10045.4.3.2');
    t.same(parsed.extensions.map((e) => e.oid), (schema.tbsCertificate.extensions ?? []).map((e) => e.extnID));
    t.same(parsed.extensions.map((e) => e.critical), (schema.tbsCertificate.extensions ?? []).map((e) => e.critical));
  }
});

t.test('parseCertificateDer refuses what is not a certificate', async (t) => {
  const good = (await issueLeafCertificate({ issuer: root, subject: 'CN=leaf', publicKey: leafKey.publicKey })).certificateDer;
  t.throws(() => parseCertificateDer(good.subarray(0, good.length - 1)), { code: 'INTERNAL' }, 'cut short');
  t.throws(() => parseCertificateDer(Uint8Array.from([...good, 0])), { code: 'INTERNAL' }, 'trailing byte');
  t.throws(() => parseCertificateDer(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x00])), { code: 'INTERNAL' }, 'a SEQUENCE of one INTEGER');
});

t.test('decodeKeyUsage numbers bits from the first octet\'s most significant bit', async (t) => {
  // BIT STRING, 7 unused bits, 0x80 = digitalSignature only
  t.equal(decodeKeyUsage(Uint8Array.from([0x03, 0x02, 0x07, 0x80])), KEY_USAGE.digitalSignature);
  // 0x06 = keyCertSign | cRLSign
  t.equal(decodeKeyUsage(Uint8Array.from([0x03, 0x02, 0x01, 0x06])), KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign);
  // decipherOnly is bit 8, in the second octet
  t.equal(decodeKeyUsage(Uint8Array.from([0x03, 0x03, 0x07, 0x00, 0x80])), KEY_USAGE.decipherOnly);
});
