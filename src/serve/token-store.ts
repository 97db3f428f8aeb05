import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';

/**
 * IMDSv2 session tokens. A token is 16 random bytes of id and 32 random bytes of secret,
 * base64url-encoded. The store keeps only the id, the SHA-256 of the secret and the expiry:
 * lookup by id (public, unguessable), then a constant-time comparison of fixed-length digests,
 * so answer times say nothing about the secret. The store is bounded: when full, expired tokens
 * go first, then the one expiring soonest (as the reference helper evicts).
 */
export interface TokenStore {
  /** A new token valid for ttlSeconds; the caller validates the range. */
  issue(ttlSeconds: number): string;
  /** Seconds left (at least 1) when the token is known and unexpired, else undefined. */
  check(token: string): number | undefined;
  readonly size: number;
}

export interface TokenStoreOptions {
  readonly clock: () => Date;
  readonly capacity?: number;
  readonly randomBytes?: (size: number) => Buffer;
}

const ID_BYTES = 16;
const SECRET_BYTES = 32;
const TOKEN_LENGTH = Math.ceil(((ID_BYTES + SECRET_BYTES) * 4) / 3);
const DEFAULT_TOKEN_CAPACITY = 4096;

interface Entry {
  readonly digest: Buffer;
  readonly expiresAt: number;
}

export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const capacity = options.capacity ?? DEFAULT_TOKEN_CAPACITY;
  const random = options.randomBytes ?? nodeRandomBytes;
  const entries = new Map<string, Entry>();
  const now = () => options.clock().getTime();

  const makeRoom = (at: number): void => {
    if (entries.size < capacity) return;
    for (const [id, entry] of entries) if (entry.expiresAt <= at) entries.delete(id);
    while (entries.size >= capacity) {
      let soonest: string | undefined;
      let soonestAt = Infinity;
      for (const [id, entry] of entries) {
        if (entry.expiresAt < soonestAt) {
          soonest = id;
          soonestAt = entry.expiresAt;
        }
      }
      if (soonest === undefined) break;
      entries.delete(soonest);
    }
  };

  return {
    issue(ttlSeconds) {
      const at = now();
      makeRoom(at);
      const raw = random(ID_BYTES + SECRET_BYTES);
      const id = raw.subarray(0, ID_BYTES).toString('hex');
      entries.set(id, { digest: sha256(raw.subarray(ID_BYTES)), expiresAt: at + ttlSeconds * 1000 });
      const token = raw.toString('base64url');
      raw.fill(0);
      return token;
    },

    check(token) {
      if (token.length !== TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
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
