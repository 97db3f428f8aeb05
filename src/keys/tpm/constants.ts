/**
 * TPM 2.0 numbers used by this command layer, from the TPM 2.0 Library Specification, Part 2
 * (Structures). Only what the commands in commands.ts need; names keep the spec's spelling so
 * they can be looked up.
 */

/** TPM_ST: structure tags of command and response headers (Part 2, 6.9). */
export const TPM_ST = Object.freeze({
  /** A TPM 1.2-style response: the TPM did not understand the command tag. */
  RSP_COMMAND: 0x00c4,
  NO_SESSIONS: 0x8001,
  SESSIONS: 0x8002,
  HASHCHECK: 0x8024,
});

/** TPM_CC: command codes (Part 2, 6.5.2). */
export const TPM_CC = Object.freeze({
  EvictControl: 0x0120,
  CreatePrimary: 0x0131,
  Create: 0x0153,
  Startup: 0x0144,
  Load: 0x0157,
  Sign: 0x015d,
  FlushContext: 0x0165,
  ReadPublic: 0x0173,
  GetCapability: 0x017a,
});

/** TPM_ALG_ID (Part 2, 6.3; TCG Algorithm Registry). */
export const TPM_ALG = Object.freeze({
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  SM2: 0x001b,
  ECSCHNORR: 0x001c,
  ECMQV: 0x001d,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CFB: 0x0043,
});

/** TPM_ECC_CURVE (Part 2, 6.4). */
export const TPM_ECC_CURVE = Object.freeze({
  NIST_P192: 0x0001,
  NIST_P224: 0x0002,
  NIST_P256: 0x0003,
  NIST_P384: 0x0004,
  NIST_P521: 0x0005,
  BN_P256: 0x0010,
  BN_P638: 0x0011,
  SM2_P256: 0x0020,
});

/** TPM_RH / TPM_RS: permanent handles (Part 2, 7.4). */
export const TPM_RH = Object.freeze({
  OWNER: 0x40000001,
  NULL: 0x40000007,
  /** TPM_RS_PW: the password authorization session. */
  PW: 0x40000009,
  LOCKOUT: 0x4000000a,
  ENDORSEMENT: 0x4000000b,
  PLATFORM: 0x4000000c,
});

/** TPM_HT: the handle type is the most significant byte of a handle (Part 2, 7.2). */
export const TPM_HT = Object.freeze({
  PERMANENT: 0x40,
  TRANSIENT: 0x80,
  PERSISTENT: 0x81,
});

/** TPM_SU: TPM2_Startup types (Part 2, 6.7). */
export const TPM_SU = Object.freeze({
  CLEAR: 0x0000,
  STATE: 0x0001,
});

/** TPM_CAP: TPM2_GetCapability categories (Part 2, 6.12). */
export const TPM_CAP = Object.freeze({
  ALGS: 0x00000000,
  HANDLES: 0x00000001,
  TPM_PROPERTIES: 0x00000006,
  ECC_CURVES: 0x00000008,
});

/** TPM_PT: TPM_CAP_TPM_PROPERTIES tags (Part 2, 6.13); PT_VAR properties start at 0x200. */
export const TPM_PT = Object.freeze({
  PERMANENT: 0x00000200,
  LOCKOUT_COUNTER: 0x0000020e,
  MAX_AUTH_FAIL: 0x0000020f,
  LOCKOUT_INTERVAL: 0x00000210,
  LOCKOUT_RECOVERY: 0x00000211,
});

/** TPMA_PERMANENT bits (Part 2, 8.6): the value of TPM_PT_PERMANENT. */
export const TPMA_PERMANENT = Object.freeze({
  ownerAuthSet: 1 << 0,
  lockoutAuthSet: 1 << 2,
  inLockout: 1 << 9,
});

/** TPMA_OBJECT bits (Part 2, 8.3). */
export const TPMA_OBJECT = Object.freeze({
  fixedTPM: 1 << 1,
  stClear: 1 << 2,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  adminWithPolicy: 1 << 7,
  noDA: 1 << 10,
  encryptedDuplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
});

/** Response header: tag (2) + responseSize (4) + responseCode (4). */
export const TPM_HEADER_SIZE = 10;

/**
 * Largest response accepted from a transport. TPMs report TPM_PT_MAX_RESPONSE_SIZE, commonly
 * 4096; the limit only stops a foreign peer from making us buffer without bound.
 */
export const TPM_MAX_RESPONSE_SIZE = 64 * 1024;
