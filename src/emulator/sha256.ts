import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Checksum, SourceData } from '@smithy/types';

/**
 * SHA-256 (or HMAC-SHA256 when given a secret) in the shape @smithy/signature-v4's helpers
 * expect for `hashConstructor`, backed by node:crypto so no extra package is needed.
 */
export class Sha256 implements Checksum {
  readonly digestLength = 32;
  readonly #secret: SourceData | undefined;
  #state: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#state = Sha256.#start(secret);
  }

  update(chunk: Uint8Array): void {
    this.#state.update(chunk);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#state.digest()));
  }

  reset(): void {
    this.#state = Sha256.#start(this.#secret);
  }

  static #start(secret: SourceData | undefined): Hash | Hmac {
    if (secret === undefined) return createHash('sha256');
    return createHmac('sha256', toBytes(secret));
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function toBytes(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
