import { X509Certificate } from 'node:crypto';

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
    serialNumber: BigInt(`0x${certificate.serialNumber}`).toString(10),
    supportedAlgorithms: [`${keyType}SHA256`, `${keyType}SHA384`, `${keyType}SHA512`],
  });
}
