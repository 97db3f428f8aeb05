/**
 * The PKCS#11 numbers this code uses (PKCS#11 2.40/3.0 pkcs11t.h), kept here so that no module
 * on a path that does not use a token has to load the native binding for its constants. A test
 * checks each against pkcs11js' own exports.
 */
export const CKA = Object.freeze({
  CLASS: 0x000,
  TOKEN: 0x001,
  PRIVATE: 0x002,
  LABEL: 0x003,
  VALUE: 0x011,
  CERTIFICATE_TYPE: 0x080,
  KEY_TYPE: 0x100,
  SUBJECT: 0x101,
  ID: 0x102,
  MODULUS: 0x120,
  PUBLIC_EXPONENT: 0x122,
  EC_PARAMS: 0x180,
  EC_POINT: 0x181,
  ALWAYS_AUTHENTICATE: 0x202,
});

export const CKO = Object.freeze({ DATA: 0, CERTIFICATE: 1, PUBLIC_KEY: 2, PRIVATE_KEY: 3, SECRET_KEY: 4 });

export const CKK = Object.freeze({
  RSA: 0x00,
  DSA: 0x01,
  DH: 0x02,
  EC: 0x03,
  X9_42_DH: 0x04,
  GOSTR3410: 0x30,
  // PKCS#11 3.0; pkcs11js 2.1 does not export them.
  EC_EDWARDS: 0x40,
  EC_MONTGOMERY: 0x41,
});

export const CKC_X_509 = 0;

export const CKU = Object.freeze({ SO: 0, USER: 1, CONTEXT_SPECIFIC: 2 });

export const CKF = Object.freeze({
  // C_OpenSession
  RW_SESSION: 0x2,
  SERIAL_SESSION: 0x4,
  // C_Initialize
  OS_LOCKING_OK: 0x2,
  // CK_TOKEN_INFO
  PROTECTED_AUTHENTICATION_PATH: 0x100,
  TOKEN_INITIALIZED: 0x400,
  USER_PIN_COUNT_LOW: 0x10000,
  USER_PIN_FINAL_TRY: 0x20000,
  USER_PIN_LOCKED: 0x40000,
});

export const CKM = Object.freeze({
  RSA_PKCS: 0x0001,
  RSA_X_509: 0x0003,
  SHA256_RSA_PKCS: 0x0040,
  SHA384_RSA_PKCS: 0x0041,
  SHA512_RSA_PKCS: 0x0042,
  ECDSA: 0x1041,
  ECDSA_SHA256: 0x1044,
  ECDSA_SHA384: 0x1045,
  ECDSA_SHA512: 0x1046,
});

// CK_STATE (PKCS#11 2.40 section 5.6)
export const CKS_RO_USER_FUNCTIONS = 1;
export const CKS_RW_USER_FUNCTIONS = 3;
