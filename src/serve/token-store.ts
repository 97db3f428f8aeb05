import { createHmac, createSecretKey, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';

/**
 * IMDSv2 session tokens, kept nowhere: a token carries its own expiry and a MAC over it under a
 * key made at start and never shown (expiry: 8 bytes, serial: 8 bytes, HMAC-SHA256: 32 bytes,
 * base64url). The serial only makes each token unique (a counter from a random start); the
 * MAC makes it unforgeable. Checking one compares fixed-length MACs in constant time, so answer
 * times say nothing about it. The MACs of recently issued and checked tokens are remembered by
 * their public part (expiry and serial), so an SDK using its token does not cost an HMAC per
 * request; the memory is bounded (emptied when full), and a token forgotten is simply checked
 * by its MAC again.
 *
 * With no store, nothing can be evicted: a token stays good for its whole TTL however many are
 * requested, so a flood of PUTs cannot log a client out (issue 10 item 13), issuing and
 * checking cost the same whatever the load, and memory does not grow with the tokens handed
 * out. A token from another serve process (another key) is refused.
 */
export interface TokenStore {
  /** A new token valid for ttlSeconds; the caller validates the range. */
  issue(ttlSeconds: number): string;
  /** Seconds left (at least 1) when the token is ours and unexpired, else undefined. */
  check(token: string): number | undefined;
}

export interface TokenStoreOptions {
  /** Milliseconds since the epoch (Date.now, or a test's clock): no Date object per request. */
  readonly now: () => number;
  readonly randomBytes?: (size: number) => Buffer;
}

const EXPIRY_BYTES = 8;
const NONCE_BYTES = 8;
const MAC_BYTES = 32;
const TOKEN_BYTES = EXPIRY_BYTES + NONCE_BYTES + MAC_BYTES;
const TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3);
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+$/;
const KEY_BYTES = 32;
const REMEMBERED_MACS = 4096;

export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const random = options.randomBytes ?? nodeRandomBytes;
  const key = createSecretKey(random(KEY_BYTES));
  const mac = (signed: Uint8Array): Buffer => createHmac('sha256', key).update(signed).digest();
  const now = options.now;
  let serial = random(NONCE_BYTES).readBigUInt64BE(0);
  // Tags kept as 32-character latin1 strings, not Buffers: under a flood of PUTs thousands of
  // small Buffers (each its own backing store) survived into the old generation and made the
  // young one grow, about 20 MB more peak RSS under load; strings live on the heap alone.
  const remembered = new Map<string, string>();
  // A remembered tag is compared from here: no Buffer made per check.
  const rememberedTag = Buffer.alloc(MAC_BYTES);
  const remember = (id: string, tag: string): void => {
    if (remembered.size >= REMEMBERED_MACS) remembered.clear();
    remembered.set(id, tag);
  };

  return {
    issue(ttlSeconds) {
      const token = Buffer.alloc(TOKEN_BYTES);
      token.writeBigUInt64BE(BigInt(now() + ttlSeconds * 1000), 0);
      serial = BigInt.asUintN(64, serial + 1n);
      token.writeBigUInt64BE(serial, EXPIRY_BYTES);
      const signed = token.subarray(0, EXPIRY_BYTES + NONCE_BYTES);
      const tag = mac(signed);
      tag.copy(token, EXPIRY_BYTES + NONCE_BYTES);
      // An SDK uses a token right after asking for it: its check then needs no HMAC.
      remember(signed.toString('latin1'), tag.toString('latin1'));
      return token.toString('base64url');
    },

    check(token) {
      if (token.length !== TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) return undefined;
      const raw = Buffer.from(token, 'base64url');
      if (raw.length !== TOKEN_BYTES) return undefined;
      const signed = raw.subarray(0, EXPIRY_BYTES + NONCE_BYTES);
      const id = signed.toString('latin1');
      const known = remembered.get(id);
      const presented = raw.subarray(EXPIRY_BYTES + NONCE_BYTES);
      const expected = known !== undefined && rememberedTag.write(known, 'latin1') === MAC_BYTES ? rememberedTag : mac(signed);
      if (!timingSafeEqual(expected, presented)) return undefined;
      if (known === undefined) remember(id, presented.toString('latin1'));
      const left = Number(raw.readBigUInt64BE(0)) - now();
      if (left <= 0) return undefined;
      return Math.max(1, Math.floor(left / 1000));
    },
  };
}
