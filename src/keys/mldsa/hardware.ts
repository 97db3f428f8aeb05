import { mlDsaParametersOfOid, type MlDsaParameterSet } from '../../certs/mldsa-parameters.js';
import { certificateSpki, splitSpki } from '../../certs/spki.js';
import { SignerError } from '../../errors.js';
import type { MlDsaRefusal } from '../descriptor.js';

/**
 * ML-DSA in hardware, as far as it goes today: no PKCS#11 module on this machine implements it
 * and TPM 2.0 defines no ML-DSA algorithm, so a certificate for an ML-DSA key met with a
 * token or TPM key is refused in one line, before any PIN or touch is spent.
 *
 * When a module offers it, the PKCS#11 3.2 mapping the token source would use is below:
 * a private key object with CKA_KEY_TYPE = CKK_ML_DSA and CKA_PARAMETER_SET naming the
 * parameter set, signed with mechanism CKM_ML_DSA over the whole string to sign (no digest),
 * with a CK_SIGN_ADDITIONAL_CONTEXT parameter of hedgeVariant CKH_DETERMINISTIC_REQUIRED and an
 * empty context, so the token's signature equals the reference helper's byte for byte. The
 * public key is CKA_VALUE of the CKO_PUBLIC_KEY object (the raw FIPS 204 encoding), wrapped
 * into SubjectPublicKeyInfo with the parameter set's OID.
 */
export const PKCS11_ML_DSA = Object.freeze({
  CKK_ML_DSA: 0x4a,
  CKM_ML_DSA_KEY_PAIR_GEN: 0x1c,
  CKM_ML_DSA: 0x1d,
  CKA_PARAMETER_SET: 0x61d,
  CKH_DETERMINISTIC_REQUIRED: 0x2,
});

const PARAMETER_SETS_BY_CKP: ReadonlyMap<number, MlDsaParameterSet> = new Map([
  [0x1, 'ML-DSA-44'],
  [0x2, 'ML-DSA-65'],
  [0x3, 'ML-DSA-87'],
]);

/** CKA_PARAMETER_SET of a CKK_ML_DSA key (CKP_ML_DSA_44/65/87) to the parameter set. */
export function mlDsaParameterSetOfCkp(ckp: number): MlDsaParameterSet | undefined {
  return PARAMETER_SETS_BY_CKP.get(ckp);
}

/** The ML-DSA parameter set a certificate's key belongs to, or undefined for other keys. */
export function mlDsaParameterSetOfCertificate(certificateDer: Uint8Array): MlDsaParameterSet | undefined {
  const spki = certificateSpki(certificateDer);
  const oid = spki === undefined ? undefined : splitSpki(spki)?.oid;
  return oid === undefined ? undefined : mlDsaParametersOfOid(oid)?.name;
}

/** NOT_SUPPORTED when the certificate is for an ML-DSA key and the key lives in a token or a TPM. */
/** PKCS#11 3.2 defines ML-DSA (the mapping above), but no module here offers it yet. */
export const PKCS11_ML_DSA_REFUSAL: MlDsaRefusal = { through: 'PKCS#11', reason: 'no PKCS#11 module here offers ML-DSA keys (CKK_ML_DSA) and the CKM_ML_DSA mechanism of PKCS#11 3.2' };
export const TPM_ML_DSA_REFUSAL: MlDsaRefusal = { through: 'a TPM', reason: 'TPM 2.0 defines no ML-DSA keys' };

export function refuseMlDsaCertificate(certificateDer: Uint8Array, refusal: MlDsaRefusal, certificateName: string): void {
  const parameterSet = mlDsaParameterSetOfCertificate(certificateDer);
  if (parameterSet === undefined) return;
  throw new SignerError('NOT_SUPPORTED', `the certificate ${certificateName} is for an ${parameterSet} key, which cannot sign through ${refusal.through}: ${refusal.reason}; keep the ML-DSA key in a file and pass it with --private-key`);
}
