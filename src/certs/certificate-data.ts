import { describeCertificate } from './load.js';
import { mlDsaParametersOfOid } from './mldsa-parameters.js';
import { certificateSpki, splitSpki } from './spki.js';

/**
 * `read-certificate-data` for a file, byte-compatible with the reference helper: compact JSON
 * {keyType, certificateData, serialNumber, supportedAlgorithms}, no trailing newline.
 */
export function certificateDataJson(der: Uint8Array): string {
  const about = describeCertificate(der);
  if (about.keyType === 'ML-DSA') {
    // ML-DSA names its parameter set and signs without a separate digest: one algorithm.
    const oid = splitSpki(certificateSpki(der) ?? new Uint8Array())?.oid ?? '';
    // The parameter set names the key type, as the reference helper prints it (ML-DSA-65).
    const name = mlDsaParametersOfOid(oid)?.name ?? 'ML-DSA';
    return JSON.stringify({ keyType: name, certificateData: Buffer.from(der).toString('base64'), serialNumber: about.serialNumberDecimal, supportedAlgorithms: [name] });
  }
  // Only RSA and EC have a name in this output; any other key type is ''.
  const keyType = about.keyType === 'RSA' || about.keyType === 'EC' ? about.keyType : '';
  return JSON.stringify({
    keyType,
    certificateData: Buffer.from(der).toString('base64'),
    serialNumber: about.serialNumberDecimal,
    supportedAlgorithms: [`${keyType}SHA256`, `${keyType}SHA384`, `${keyType}SHA512`],
  });
}
