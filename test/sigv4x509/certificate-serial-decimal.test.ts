import t from 'tap';
import { certificateSerialDecimal } from '../../src/sigv4x509/certificate-serial-decimal.js';
import { derOf, readVectors, type EnvoyVectors, type OwnVectors } from './vectors.js';

const envoy = readVectors<EnvoyVectors>('envoy-rsa.json');
const own = readVectors<OwnVectors>('sigv4x509-own.json');

/** A minimal DER "certificate": SEQUENCE { SEQUENCE { [0] version?, INTEGER serial } }. */
function fakeCertificate(serial: readonly number[], withVersion = true): Uint8Array {
  const version = withVersion ? [0xa0, 0x03, 0x02, 0x01, 0x02] : [];
  const tbs = [...version, 0x02, serial.length, ...serial];
  return Uint8Array.from([0x30, tbs.length + 2, 0x30, tbs.length, ...tbs]);
}

t.test('real certificates: serials in decimal, leading 00 dropped', async (t) => {
  // Envoy leaf 0x632d252d..., and its CA 0x00a3eebc... (high bit set, so DER carries a 00).
  t.equal(certificateSerialDecimal(derOf(envoy.certificatePem)), '131827979019394590882466519576505238184');
  t.equal(certificateSerialDecimal(derOf(envoy.chainPem)), BigInt('0xa3eebc5e01df98da895f50ad7487f612').toString(10));
  t.equal(certificateSerialDecimal(derOf(own.keys['rsa']?.certificatePem ?? '')), BigInt('0x8BADF00DDEADBEEF0123456789ABCDEF').toString(10));
  t.equal(certificateSerialDecimal(derOf(own.keys['p256']?.certificatePem ?? '')), '122');
});

t.test('hand-made DER: with and without version, zero, long serials', async (t) => {
  t.equal(certificateSerialDecimal(fakeCertificate([0x01])), '1');
  t.equal(certificateSerialDecimal(fakeCertificate([0x00])), '0');
  t.equal(certificateSerialDecimal(fakeCertificate([0x00, 0xff], false)), '255', 'v1 certificate, no [0] version');
  const twenty = Array.from({ length: 20 }, (_, i) => (i === 0 ? 0x7f : 0xff));
  t.equal(certificateSerialDecimal(fakeCertificate(twenty)), (2n ** 159n - 1n).toString(10));
});

t.test('refusals', async (t) => {
  const notCertificate = (detail: string) => ({
    name: 'SignerError',
    code: 'CERT_INVALID',
    message: `certificate is not a DER X.509 certificate (${detail}): pass the leaf certificate's DER bytes`,
  });
  t.throws(() => certificateSerialDecimal(new Uint8Array(0)), notCertificate('it is not one DER SEQUENCE'));
  t.throws(() => certificateSerialDecimal(Buffer.from('-----BEGIN CERTIFICATE-----')), notCertificate('it is not one DER SEQUENCE'));
  const trailing = Uint8Array.from([...fakeCertificate([1]), 0x00]);
  t.throws(() => certificateSerialDecimal(trailing), notCertificate('it is not one DER SEQUENCE'));
  t.throws(() => certificateSerialDecimal(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)), notCertificate('its TBSCertificate is missing'));
  t.throws(() => certificateSerialDecimal(Uint8Array.of(0x30, 0x04, 0x30, 0x02, 0x05, 0x00)), notCertificate('its serial number is missing'));
  t.throws(() => certificateSerialDecimal(fakeCertificate([0x80, 0x01])), {
    code: 'CERT_INVALID',
    message: 'certificate serial number is negative, which RFC 5280 forbids and the service rejects: reissue the certificate',
  });
});
