import { describeCertificate } from './load.js';

/**
 * `read-certificate-data` for a file, byte-compatible with the reference helper: compact JSON
 * {keyType, certificateData, serialNumber, supportedAlgorithms}, no trailing newline.
 */
export function certificateDataJson(der: Uint8Array): string {
  const about = describeCertificate(der);
  // Only RSA and EC have a name in this output; any other key type is ''.
  const keyType = about.keyType === 'RSA' || about.keyType === 'EC' ? about.keyType : '';
  return JSON.stringify({
    keyType,
    certificateData: Buffer.from(der).toString('base64'),
    serialNumber: about.serialNumberDecimal,
    supportedAlgorithms: [`${keyType}SHA256`, `${keyType}SHA384`, `${keyType}SHA512`],
  });
}
