import { SignerError } from '../../errors.js';
import type { MlDsaParameterSet } from '../../certs/mldsa-parameters.js';

/**
 * The ML-DSA arithmetic, loaded on first use only: nothing here runs or loads for RSA and EC
 * keys (cold start). It is @noble/post-quantum (FIPS 204) even where node:crypto has ML-DSA,
 * because signing must be the deterministic variant (rnd = 32 zero bytes, FIPS 204 alg. 2) to
 * match the reference helper byte for byte, and node:crypto offers only the hedged one.
 */
export interface MlDsaEngine {
  /** FIPS 204 ML-DSA.KeyGen_internal(xi): the expanded private key and the public key. */
  keyPairFromSeed(seed: Uint8Array): { readonly secretKey: Uint8Array; readonly publicKey: Uint8Array };
  publicKeyOf(secretKey: Uint8Array): Uint8Array;
  /** Pure ML-DSA, empty context, deterministic. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

type NobleMlDsa = typeof import('@noble/post-quantum/ml-dsa.js');

export async function loadMlDsaEngine(parameterSet: MlDsaParameterSet): Promise<MlDsaEngine> {
  let noble: NobleMlDsa;
  try {
    // The module cache makes a second import free: no cache of our own.
    noble = await import('@noble/post-quantum/ml-dsa.js');
  } catch (cause) {
    throw new SignerError('NOT_SUPPORTED', 'ML-DSA keys need the @noble/post-quantum package, which did not load: reinstall roles-anywhere-signer', { cause });
  }
  const dsa = parameterSet === 'ML-DSA-44' ? noble.ml_dsa44 : parameterSet === 'ML-DSA-65' ? noble.ml_dsa65 : noble.ml_dsa87;
  return {
    keyPairFromSeed: (seed) => dsa.keygen(seed),
    publicKeyOf: (secretKey) => dsa.getPublicKey(secretKey),
    sign: (message, secretKey) => dsa.sign(message, secretKey, { extraEntropy: false }),
    verify: (signature, message, publicKey) => {
      try {
        return dsa.verify(signature, message, publicKey);
      } catch {
        return false;
      }
    },
  };
}
