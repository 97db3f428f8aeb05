import { verify, type KeyObject } from 'node:crypto';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { SignerError } from '../errors.js';
import type { KeyType } from '../keys/types.js';

/**
 * PKCS#10 certificate requests (RFC 2986), signed by a key that never leaves its device: the
 * request info is built here, the signature comes from a KeySource's `sign` (SHA-256, wire
 * encoding: PKCS#1 v1.5 for RSA, DER SEQUENCE{r,s} for ECDSA, which is what X.509 wants too).
 * This module pulls in the ASN.1 schema stack, so only `enroll` imports it.
 */

// RFC 5754 section 3.2: ecdsa-with-SHA256 has no parameters; RFC 4055: sha256WithRSAEncryption has NULL.
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

export interface CertificateRequestInput {
  /** DER of the subject Name (encodeSubject). */
  readonly subject: Uint8Array;
  readonly publicKey: KeyObject;
  readonly keyType: KeyType;
  /** Signs the DER request info with SHA-256; a KeySource's `sign` fits. */
  readonly sign: (message: Uint8Array) => Promise<Uint8Array>;
}

export async function buildCertificateRequest(input: CertificateRequestInput): Promise<Uint8Array> {
  const signatureAlgorithm = signatureAlgorithmFor(input.keyType);
  const spki = input.publicKey.export({ type: 'spki', format: 'der' });
  const info = new CertificationRequestInfo({
    version: 0,
    subject: AsnConvert.parse(input.subject, Name),
    subjectPKInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    attributes: new Attributes(),
  });
  const infoDer = new Uint8Array(AsnConvert.serialize(info));
  const signature = await input.sign(infoDer);
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm,
    signature: toArrayBuffer(signature),
  });
  const der = new Uint8Array(AsnConvert.serialize(request));
  assertCertificateRequestVerifies(der, input.publicKey);
  return der;
}

function signatureAlgorithmFor(keyType: KeyType): AlgorithmIdentifier {
  switch (keyType) {
    case 'EC':
      return new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
    case 'RSA':
      return new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: DER_NULL });
    case 'ML-DSA':
      throw new SignerError('KEY_TYPE_UNSUPPORTED', 'certificate requests for ML-DSA keys are not supported yet: enroll an EC or RSA key');
  }
}

/**
 * Re-reads the encoded request and checks its signature with the public key the device
 * reported, so a request the CA would reject (wrong key, a token signing with another
 * mechanism) is never written.
 */
export function assertCertificateRequestVerifies(der: Uint8Array, publicKey: KeyObject): void {
  let parsed: CertificationRequest;
  try {
    parsed = AsnConvert.parse(der, CertificationRequest);
  } catch (cause) {
    throw new SignerError('INTERNAL', 'the certificate request just built does not parse as PKCS#10: rerun with --debug and report it', { cause });
  }
  const info = new Uint8Array(AsnConvert.serialize(parsed.certificationRequestInfo));
  const spki = new Uint8Array(AsnConvert.serialize(parsed.certificationRequestInfo.subjectPKInfo));
  const sameKey = Buffer.from(spki).equals(publicKey.export({ type: 'spki', format: 'der' }));
  const valid = sameKey && verify('sha256', info, publicKey, new Uint8Array(parsed.signature));
  if (!valid) {
    throw new SignerError('CERT_KEY_MISMATCH', 'the certificate request signed by the new key does not verify with its public key, so it was not written: the device signed with another key or mechanism; rerun with --debug');
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
