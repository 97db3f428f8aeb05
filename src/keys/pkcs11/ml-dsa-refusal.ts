import type { MlDsaRefusal } from '../descriptor.js';

/** PKCS#11 3.2 defines ML-DSA (src/keys/mldsa/hardware.ts maps it), but no module here offers it. */
export const PKCS11_ML_DSA_REFUSAL: MlDsaRefusal = { through: 'PKCS#11', reason: 'no PKCS#11 module here offers ML-DSA keys (CKK_ML_DSA) and the CKM_ML_DSA mechanism of PKCS#11 3.2' };
