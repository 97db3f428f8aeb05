import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';

/**
 * IMDSv2 session tokens. A token is 16 random bytes of id and 32 random bytes of secret,
 * base64url-encoded. The store keeps only the id, the SHA-256 of the secret and the expiry:
 * lookup by id (public, unguessable), then a constant-time comparison of fixed-length digests,
 * so answer times say nothing about the secret.
 *
 * The store is bounded, and a token it issued stays good until its TTL ends: when it is full
 * of unexpired tokens, a new one is refused (the endpoint answers 429) rather than evicting a
 * client's valid token, so a flood of PUTs cannot log anybody out (issue 10 item 13).
 * Issue and lookup cost the same at any fill level: expired tokens are dropped by expiry
 * second, walking forward from the last second already swept, never by scanning the store.
 */
export interface TokenStore {
  /** A new token valid for ttlSeconds, or undefined when the store is full of valid tokens. */
  issue(ttlSeconds: number): string | undefined;
  /** Seconds left (at least 1) when the token is known and unexpired, else undefined. */
  check(token: string): number | undefined;
  readonly size: number;
  readonly capacity: number;
}

export interface TokenStoreOptions {
  readonly clock: () => Date;
  readonly capacity?: number;
  readonly randomBytes?: (size: number) => Buffer;
}

const ID_BYTES = 16;
const SECRET_BYTES = 32;
const TOKEN_LENGTH = Math.ceil(((ID_BYTES + SECRET_BYTES) * 4) / 3);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+$/;
export const DEFAULT_TOKEN_CAPACITY = 4096;

interface Entry {
  readonly digest: Buffer;
  readonly expiresAt: number;
}

export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const capacity = options.capacity ?? DEFAULT_TOKEN_CAPACITY;
  const random = options.randomBytes ?? nodeRandomBytes;
  const entries = new Map<string, Entry>();
  // Token ids by the whole second at or before which they expire (expiry rounded up); an id
  // may outlive its entry (a token seen expired is dropped at once).
  const bySecond = new Map<number, string[]>();
  const now = () => options.clock().getTime();
  let sweptThrough = Math.floor(now() / 1000);

  /** Drops every token of every second that is over. Each second and each id is visited once. */
  const sweep = (at: number): void => {
    const current = Math.floor(at / 1000);
    if (current <= sweptThrough) return;
    const drop = (second: number): void => {
      for (const id of bySecond.get(second) ?? []) entries.delete(id);
      bySecond.delete(second);
    };
    // After a long quiet spell there are fewer buckets than seconds to walk: visit the buckets.
    if (current - sweptThrough > bySecond.size) {
      for (const second of [...bySecond.keys()]) if (second <= current) drop(second);
    } else {
      for (let second = sweptThrough + 1; second <= current; second++) drop(second);
    }
    sweptThrough = current;
  };

  return {
    capacity,

    issue(ttlSeconds) {
      const at = now();
      sweep(at);
      if (entries.size >= capacity) return undefined;
      const raw = random(ID_BYTES + SECRET_BYTES);
      const id = raw.subarray(0, ID_BYTES).toString('hex');
      const expiresAt = at + ttlSeconds * 1000;
      entries.set(id, { digest: sha256(raw.subarray(ID_BYTES)), expiresAt });
      const second = Math.ceil(expiresAt / 1000);
      const bucket = bySecond.get(second);
      if (bucket === undefined) bySecond.set(second, [id]);
      else bucket.push(id);
      const token = raw.toString('base64url');
      raw.fill(0);
      return token;
    },

    check(token) {
      if (token.length !== TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) return undefined;
      const raw = Buffer.from(token, 'base64url');
      if (raw.length !== ID_BYTES + SECRET_BYTES) return undefined;
      const id = raw.subarray(0, ID_BYTES).toString('hex');
      const presented = sha256(raw.subarray(ID_BYTES));
      raw.fill(0);
      const entry = entries.get(id);
      // Compare against a dummy digest when the id is unknown, so both paths do the same work.
      if (!timingSafeEqual(presented, entry?.digest ?? UNKNOWN_DIGEST) || entry === undefined) return undefined;
      const left = entry.expiresAt - now();
      if (left <= 0) {
        entries.delete(id);
        return undefined;
      }
      return Math.max(1, Math.floor(left / 1000));
    },

    get size() {
      return entries.size;
    },
  };
}

const UNKNOWN_DIGEST = Buffer.alloc(32);

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}
