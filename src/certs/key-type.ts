import type { KeyType } from '../sigv4x509/types.js';

const KEY_TYPES_BY_SPKI_OID: ReadonlyMap<string, KeyType> = new Map([
  ['1.2.840.113549.1.1.1', 'RSA'],
  ['1.2.840.10045.2.1', 'EC'],
  ['2.16.840.1.101.3.4.3.17', 'ML-DSA'],
  ['2.16.840.1.101.3.4.3.18', 'ML-DSA'],
  ['2.16.840.1.101.3.4.3.19', 'ML-DSA'],
]);

/**
 * The SigV4-X509 key family of a SubjectPublicKeyInfo algorithm OID; undefined for the rest
 * (Ed25519, DSA, RSASSA-PSS-only keys), which the service does not sign with.
 */
export function keyTypeOfPublicKeyAlgorithm(oid: string): KeyType | undefined {
  return KEY_TYPES_BY_SPKI_OID.get(oid);
}
