import { timingSafeEqual } from 'node:crypto';
import { SignerError } from '../../errors.js';
import { loadMlDsaEngine } from './engine.js';
import type { MlDsaParameters } from '../../certs/mldsa-parameters.js';
import { encodeMlDsaSpki, type MlDsaPrivateKeyInfo } from './private-key.js';

/** An ML-DSA private key ready to sign: the expanded key in memory until `destroy`. */
export interface MlDsaSigningKey {
  readonly parameters: MlDsaParameters;
  /** SubjectPublicKeyInfo DER of the public half. */
  readonly spki: Uint8Array;
  /** Pure ML-DSA over the message, empty context, deterministic (what the reference helper sends). */
  sign(message: Uint8Array): Uint8Array;
  /** Zeroes the expanded key; signing afterwards is an error. */
  destroy(): void;
}

/**
 * Expands a PKCS#8 ML-DSA key. From a seed the key is derived (FIPS 204 KeyGen_internal); with
 * both forms present the derived expanded key must equal the stored one, or the file is
 * refused (a key whose halves disagree signs with one and certifies the other). The seed and
 * the stored expanded key are zeroed here, whatever happens.
 */
export async function createMlDsaSigningKey(info: MlDsaPrivateKeyInfo, source: string): Promise<MlDsaSigningKey> {
  const { parameters, seed, expandedKey } = info;
  try {
    const engine = await loadMlDsaEngine(parameters.name);
    let secretKey: Uint8Array;
    let publicKey: Uint8Array;
    if (seed !== undefined) {
      ({ secretKey, publicKey } = engine.keyPairFromSeed(seed));
      if (expandedKey !== undefined && !timingSafeEqual(secretKey, expandedKey)) {
        secretKey.fill(0);
        throw new SignerError('KEY_INVALID', `${source} holds an ${parameters.name} seed and an expanded key that do not match: the file is damaged or was edited; make a new key`);
      }
    } else if (expandedKey !== undefined) {
      secretKey = Uint8Array.from(expandedKey);
      try {
        publicKey = engine.publicKeyOf(secretKey);
      } catch (cause) {
        secretKey.fill(0);
        throw new SignerError('KEY_INVALID', `${source} holds an ${parameters.name} expanded key that is not valid: get a fresh copy of the file, or make a new key`, { cause });
      }
    } else {
      throw new SignerError('INTERNAL', `${source}: ML-DSA key with neither seed nor expanded key`);
    }
    let key: Uint8Array | undefined = secretKey;
    return {
      parameters,
      spki: encodeMlDsaSpki(parameters, publicKey),
      sign(message) {
        if (key === undefined) throw new SignerError('INTERNAL', `the key source ${source} is closed: open it again before signing`);
        return engine.sign(message, key);
      },
      destroy() {
        key?.fill(0);
        key = undefined;
      },
    };
  } finally {
    seed?.fill(0);
    expandedKey?.fill(0);
  }
}
