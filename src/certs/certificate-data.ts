import { X509Certificate } from 'node:crypto';
import { describeCertificate } from './load.js';

/**
 * `read-certificate-data` for a file, byte-compatible with the reference helper: compact JSON
 * {keyType, certificateData, serialNumber, supportedAlgorithms}, no trailing newline.
 */
export function certificateDataJson(der: Uint8Array): string {
  const certificate = new X509Certificate(der);
  const type = certificate.publicKey.asymmetricKeyType;
  const keyType = type === 'rsa' ? 'RSA' : type === 'ec' ? 'EC' : '';
  return JSON.stringify({
    keyType,
    certificateData: Buffer.from(der).toString('base64'),
    serialNumber: describeCertificate(der).serialNumberDecimal,
    supportedAlgorithms: [`${keyType}SHA256`, `${keyType}SHA384`, `${keyType}SHA512`],
  });
}
