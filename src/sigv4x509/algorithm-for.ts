import { SignerError } from '../errors.js';
import type { KeyType } from './types.js';
import { ALGORITHM_BY_KEY_TYPE } from './constants.js';

/** The SigV4-X509 algorithm id for a key family; EC covers every curve (P-384 signs SHA-256 too). */
export function algorithmFor(keyType: KeyType): string {
  const algorithm = ALGORITHM_BY_KEY_TYPE[keyType];
  // Reachable from JavaScript callers and from casts of untyped key metadata.
  if (algorithm === undefined) {
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `key type ${String(keyType)} has no SigV4-X509 algorithm: use an RSA, EC or ML-DSA key`);
  }
  return algorithm;
}
