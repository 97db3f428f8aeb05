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
