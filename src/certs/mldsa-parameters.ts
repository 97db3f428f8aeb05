/**
 * The three ML-DSA parameter sets of FIPS 204 (table 1 and 2) and the OIDs that name them in
 * SubjectPublicKeyInfo, PKCS#8 and certificate signatures (NIST CSOR, RFC 9881: parameters
 * absent). Pure data: importing it loads no ML-DSA code.
 */
export type MlDsaParameterSet = 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';

export interface MlDsaParameters {
  readonly name: MlDsaParameterSet;
  readonly oid: string;
  readonly publicKeyBytes: number;
  /** The expanded private key (FIPS 204 skEncode), what PKCS#8 calls expandedKey. */
  readonly expandedKeyBytes: number;
  readonly signatureBytes: number;
}

/** FIPS 204 key generation starts from 32 random bytes, xi; the LAMPS seed form stores them. */
export const ML_DSA_SEED_BYTES = 32;

export const ML_DSA_PARAMETER_SETS: readonly MlDsaParameters[] = Object.freeze([
  { name: 'ML-DSA-44', oid: '2.16.840.1.101.3.4.3.17', publicKeyBytes: 1312, expandedKeyBytes: 2560, signatureBytes: 2420 },
  { name: 'ML-DSA-65', oid: '2.16.840.1.101.3.4.3.18', publicKeyBytes: 1952, expandedKeyBytes: 4032, signatureBytes: 3309 },
  { name: 'ML-DSA-87', oid: '2.16.840.1.101.3.4.3.19', publicKeyBytes: 2592, expandedKeyBytes: 4896, signatureBytes: 4627 },
]);

export function mlDsaParametersOfOid(oid: string): MlDsaParameters | undefined {
  return ML_DSA_PARAMETER_SETS.find((parameters) => parameters.oid === oid);
}

export function mlDsaParametersNamed(name: string): MlDsaParameters | undefined {
  return ML_DSA_PARAMETER_SETS.find((parameters) => parameters.name === name.toUpperCase());
}
