import { createPublicKey, type KeyObject } from 'node:crypto';
import type { SourcePublicKey } from './types.js';

/** The SourcePublicKey of a node:crypto key (a private KeyObject gives its public half). */
export function sourcePublicKeyOf(key: KeyObject): SourcePublicKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return { spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })), keyObject: publicKey };
}
