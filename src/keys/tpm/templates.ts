import { TPMA_OBJECT, TPM_ALG, TPM_ECC_CURVE } from './constants.js';
import type { TpmEccPublicArea, TpmRsaPublicArea } from './public-area.js';

/**
 * The storage primary keys a TSS2 key file's hierarchy parent stands for (TCG TPM v2.0
 * Provisioning Guidance, SRK templates; draft-bottomley-tpm2-keys): the same template always
 * derives the same key from the hierarchy seed, so re-creating it on every load finds the
 * parent that tpm2-openssl, tpm2-tss-engine and go-tpm-keyfiles used when they made the key.
 */
const STORAGE_PRIMARY_ATTRIBUTES =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.userWithAuth |
  TPMA_OBJECT.noDA |
  TPMA_OBJECT.restricted |
  TPMA_OBJECT.decrypt;

const AES_128_CFB = Object.freeze({ algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB });

/** ECC NIST P-256 storage key, empty unique: the default parent. */
export const ECC_P256_STORAGE_PRIMARY: TpmEccPublicArea = Object.freeze({
  type: TPM_ALG.ECC,
  nameAlg: TPM_ALG.SHA256,
  objectAttributes: STORAGE_PRIMARY_ATTRIBUTES,
  authPolicy: Buffer.alloc(0),
  symmetric: AES_128_CFB,
  scheme: Object.freeze({ scheme: TPM_ALG.NULL }),
  curveId: TPM_ECC_CURVE.NIST_P256,
  kdf: Object.freeze({ scheme: TPM_ALG.NULL }),
  x: Buffer.alloc(0),
  y: Buffer.alloc(0),
});

/** RSA 2048 storage key, empty unique: the parent when a key file sets rsaParent. */
export const RSA_2048_STORAGE_PRIMARY: TpmRsaPublicArea = Object.freeze({
  type: TPM_ALG.RSA,
  nameAlg: TPM_ALG.SHA256,
  objectAttributes: STORAGE_PRIMARY_ATTRIBUTES,
  authPolicy: Buffer.alloc(0),
  symmetric: AES_128_CFB,
  scheme: Object.freeze({ scheme: TPM_ALG.NULL }),
  keyBits: 2048,
  exponent: 0,
  modulus: Buffer.alloc(0),
});

/**
 * A signing key made by `enroll`: generated inside the TPM (sensitiveDataOrigin), bound to this
 * TPM and its parent (fixedTPM, fixedParent: TPM2_Duplicate refuses it), usable with its
 * password (userWithAuth), for signing only (not decrypt, not restricted). Without noDA, so
 * wrong passwords count toward the TPM's dictionary-attack lockout. Scheme NULL: each
 * TPM2_Sign names ECDSA or RSASSA and the hash, as the key source does.
 */
export const SIGNING_KEY_ATTRIBUTES =
  TPMA_OBJECT.fixedTPM |
  TPMA_OBJECT.fixedParent |
  TPMA_OBJECT.sensitiveDataOrigin |
  TPMA_OBJECT.userWithAuth |
  TPMA_OBJECT.sign;

const NO_SYMMETRIC = Object.freeze({ algorithm: TPM_ALG.NULL });
const NULL_SCHEME = Object.freeze({ scheme: TPM_ALG.NULL });

export function eccSigningKeyTemplate(curveId: typeof TPM_ECC_CURVE.NIST_P256 | typeof TPM_ECC_CURVE.NIST_P384): TpmEccPublicArea {
  return {
    type: TPM_ALG.ECC,
    nameAlg: TPM_ALG.SHA256,
    objectAttributes: SIGNING_KEY_ATTRIBUTES,
    authPolicy: Buffer.alloc(0),
    symmetric: NO_SYMMETRIC,
    scheme: NULL_SCHEME,
    curveId,
    kdf: NULL_SCHEME,
    x: Buffer.alloc(0),
    y: Buffer.alloc(0),
  };
}

export function rsaSigningKeyTemplate(keyBits: 2048 | 3072): TpmRsaPublicArea {
  return {
    type: TPM_ALG.RSA,
    nameAlg: TPM_ALG.SHA256,
    objectAttributes: SIGNING_KEY_ATTRIBUTES,
    authPolicy: Buffer.alloc(0),
    symmetric: NO_SYMMETRIC,
    scheme: NULL_SCHEME,
    keyBits,
    exponent: 0,
    modulus: Buffer.alloc(0),
  };
}
