import { DER_TAG, decodeDerOid, readDerChildren, readStrictDerElement } from '../asn1/der.js';

/**
 * The SubjectPublicKeyInfo DER of a certificate, read with the project's DER reader so it works
 * for every key type, also those node:crypto cannot load (ML-DSA on Node.js 20); undefined for
 * bytes that are not a certificate.
 */
export function certificateSpki(certificateDer: Uint8Array): Uint8Array | undefined {
  try {
    const certificate = readStrictDerElement(certificateDer);
    if (certificate === undefined || certificate.tag !== DER_TAG.SEQUENCE) return undefined;
    const [tbs] = readDerChildren(certificate);
    if (tbs === undefined || tbs.tag !== DER_TAG.SEQUENCE) return undefined;
    const fields = readDerChildren(tbs);
    // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, SPKI.
    const spkiIndex = fields[0]?.tag === DER_TAG.CONTEXT_0_CONSTRUCTED ? 6 : 5;
    const spki = fields[spkiIndex];
    return spki?.tag === DER_TAG.SEQUENCE ? spki.encoded : undefined;
  } catch {
    return undefined;
  }
}

/** The algorithm OID and the raw key bits (BIT STRING contents without the unused-bits octet). */
export function splitSpki(spki: Uint8Array): { readonly oid: string; readonly keyBits: Uint8Array } | undefined {
  try {
    const element = readStrictDerElement(spki);
    if (element === undefined || element.tag !== DER_TAG.SEQUENCE) return undefined;
    const [algorithm, bits] = readDerChildren(element);
    if (algorithm === undefined || algorithm.tag !== DER_TAG.SEQUENCE || bits?.tag !== DER_TAG.BIT_STRING || bits.value[0] !== 0) return undefined;
    const [oid] = readDerChildren(algorithm);
    return { oid: decodeDerOid(oid, 'SubjectPublicKeyInfo algorithm'), keyBits: bits.value.subarray(1) };
  } catch {
    return undefined;
  }
}

/** The OID of a certificate's signatureAlgorithm (the outer one); undefined for non-certificates. */
export function certificateSignatureOid(certificateDer: Uint8Array): string | undefined {
  try {
    const certificate = readStrictDerElement(certificateDer);
    if (certificate === undefined || certificate.tag !== DER_TAG.SEQUENCE) return undefined;
    const [, algorithm] = readDerChildren(certificate);
    if (algorithm === undefined || algorithm.tag !== DER_TAG.SEQUENCE) return undefined;
    return decodeDerOid(readDerChildren(algorithm)[0], 'signatureAlgorithm');
  } catch {
    return undefined;
  }
}
