import { SignerError } from '../errors.js';
import { DER_TAG, readStrictDerElement } from '../asn1/der.js';

/**
 * The certificate serial number in decimal, as `Credential=` carries it. Read straight from
 * the DER (Certificate -> TBSCertificate -> [0] version? -> serialNumber INTEGER) instead of a
 * full X.509 parse, because it runs on every signature. A leading 00 byte (serials with the
 * high bit set) is sign padding and drops out of the value.
 */
export function certificateSerialDecimal(der: Uint8Array): string {
  const certificate = readStrictDerElement(der);
  if (certificate === undefined || certificate.tag !== DER_TAG.SEQUENCE || certificate.encoded.length !== der.length) {
    throw notACertificate('it is not one DER SEQUENCE');
  }
  const tbs = readStrictDerElement(certificate.value);
  if (tbs === undefined || tbs.tag !== DER_TAG.SEQUENCE) throw notACertificate('its TBSCertificate is missing');
  let field = readStrictDerElement(tbs.value);
  if (field !== undefined && field.tag === DER_TAG.CONTEXT_0_CONSTRUCTED) field = readStrictDerElement(tbs.value, field.encoded.length);
  if (field === undefined || field.tag !== DER_TAG.INTEGER || field.value.length === 0) {
    throw notACertificate('its serial number is missing');
  }
  const serial = field.value;
  if (((serial[0] ?? 0) & 0x80) !== 0) {
    throw new SignerError('CERT_INVALID', 'certificate serial number is negative, which RFC 5280 forbids and the service rejects: reissue the certificate');
  }
  const hex = Buffer.from(serial.buffer, serial.byteOffset, serial.byteLength).toString('hex');
  return BigInt(`0x${hex}`).toString(10);
}

function notACertificate(detail: string): SignerError {
  return new SignerError('CERT_INVALID', `certificate is not a DER X.509 certificate (${detail}): pass the leaf certificate's DER bytes`);
}
