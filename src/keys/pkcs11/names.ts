import { DER_TAG, readDerChildren, readWholeDerElement } from '../../asn1/der.js';

export interface CertificateNames {
  /** DER of the issuer Name, byte for byte as in the certificate. */
  readonly issuer: Uint8Array;
  /** DER of the subject Name: what PKCS#11 stores as a certificate's CKA_SUBJECT. */
  readonly subject: Uint8Array;
}

/**
 * The issuer and subject Names of a DER certificate (RFC 5280 4.1), as encoded, so an issuer
 * can be searched on a token by CKA_SUBJECT. Undefined when the bytes are no certificate.
 * Pure.
 */
export function certificateNames(der: Uint8Array): CertificateNames | undefined {
  try {
    const [tbs] = readDerChildren(readWholeDerElement(der));
    if (tbs === undefined || tbs.tag !== DER_TAG.SEQUENCE) return undefined;
    const fields = readDerChildren(tbs);
    // version [0] EXPLICIT is optional (v1 certificates leave it out).
    const start = fields[0]?.tag === DER_TAG.CONTEXT_0_CONSTRUCTED ? 1 : 0;
    const issuer = fields[start + 2];
    const subject = fields[start + 4];
    if (issuer?.tag !== DER_TAG.SEQUENCE || subject?.tag !== DER_TAG.SEQUENCE) return undefined;
    return { issuer: issuer.encoded, subject: subject.encoded };
  } catch {
    return undefined;
  }
}
