import { SignerError } from '../errors.js';
import { readDerElement } from './readDerElement.js';

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const EXPLICIT_VERSION = 0xa0;

/**
 * The certificate serial number in decimal, as `Credential=` carries it. Read straight from
 * the DER (Certificate -> TBSCertificate -> [0] version? -> serialNumber INTEGER) instead of a
 * full X.509 parse, because it runs on every signature. A leading 00 byte (serials with the
 * high bit set) is sign padding and drops out of the value.
 */
export function certificateSerialDecimal(der: Uint8Array): string {
  const certificate = readDerElement(der, 0);
  if (certificate === undefined || certificate.tag !== SEQUENCE || certificate.end !== der.length) {
    throw notACertificate('it is not one DER SEQUENCE');
  }
  const tbs = readDerElement(der, certificate.contentStart, certificate.end);
  if (tbs === undefined || tbs.tag !== SEQUENCE) throw notACertificate('its TBSCertificate is missing');
  let field = readDerElement(der, tbs.contentStart, tbs.end);
  if (field !== undefined && field.tag === EXPLICIT_VERSION) field = readDerElement(der, field.end, tbs.end);
  if (field === undefined || field.tag !== INTEGER || field.end === field.contentStart) {
    throw notACertificate('its serial number is missing');
  }
  const serial = der.subarray(field.contentStart, field.end);
  if (((serial[0] ?? 0) & 0x80) !== 0) {
    throw new SignerError('CERT_INVALID', 'certificate serial number is negative, which RFC 5280 forbids and the service rejects: reissue the certificate');
  }
  const hex = Buffer.from(serial.buffer, serial.byteOffset, serial.byteLength).toString('hex');
  return BigInt(`0x${hex}`).toString(10);
}

function notACertificate(detail: string): SignerError {
  return new SignerError('CERT_INVALID', `certificate is not a DER X.509 certificate (${detail}): pass the leaf certificate's DER bytes`);
}
