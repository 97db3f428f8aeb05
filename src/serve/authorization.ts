import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import { SignerError } from '../errors.js';

/**
 * The container endpoint's authorization token, compared in constant time: both sides are
 * hashed to 32 bytes first, so neither the length nor a prefix of the token leaks through
 * answer times. The expected token comes from a fixed value or from a file that may be rotated
 * (as Kubernetes does with projected tokens); the file is read again at most once a second.
 * A token file that disappears or turns invalid (empty, a line break, not a regular file) while
 * serving revokes the old token: every request is refused until the file is fixed, and `warn`
 * says so once per change. Keeping the old token would let a deleted credential live on.
 */
export interface AuthorizationCheck {
  (presented: string | undefined): boolean;
}

export interface TokenFileOptions {
  readonly path: string;
  readonly clock: () => Date;
  readonly rereadAfterMs?: number;
  /** Told when the file turns unusable (requests refused) and when it is usable again. */
  readonly warn?: (line: string) => void;
}

/** `expectedDigest` gives the SHA-256 of the token to accept (32 bytes); undefined accepts none. */
export function createAuthorizationCheck(expectedDigest: () => Buffer | undefined): AuthorizationCheck {
  return (presented) => {
    if (presented === undefined || presented === '') return false;
    const expected = expectedDigest();
    if (expected === undefined) return false;
    return timingSafeEqual(expected, digest(Buffer.from(presented, 'utf8')));
  };
}

/** A fixed token, kept as its digest only; the caller zeroes its own buffer afterwards. */
export function fixedTokenDigest(token: Buffer): () => Buffer {
  if (token.length === 0) throw new SignerError('CONFIG_INVALID', 'the container authorization token is empty: set a non-empty token');
  const expected = digest(token);
  return () => expected;
}

/** A token file, re-read when it may have been rotated; errors of the first read are fatal. */
export function tokenFileDigest(options: TokenFileOptions): () => Buffer | undefined {
  const rereadAfterMs = options.rereadAfterMs ?? 1000;
  const warn = options.warn ?? (() => {});
  let current: Buffer | undefined = digestOfFile(options.path);
  let readAt = options.clock().getTime();
  let problem: string | undefined;
  return () => {
    const now = options.clock().getTime();
    if (now - readAt >= rereadAfterMs) {
      readAt = now;
      try {
        current = digestOfFile(options.path);
        if (problem !== undefined) warn(`the container token file ${options.path} is usable again: requests with its token are served`);
        problem = undefined;
      } catch (error) {
        // Rotations that replace the file atomically (rename, Kubernetes' symlink swap) never
        // show a missing or partial file, so this is a revocation or a mistake: refuse all.
        current = undefined;
        const message = error instanceof SignerError ? error.message : String(error);
        if (message !== problem) warn(`${message}; every container request is refused until it is fixed`);
        problem = message;
      }
    }
    return current;
  };
}

function digestOfFile(path: string): Buffer {
  const token = readTokenFile(path);
  try {
    return digest(token);
  } finally {
    token.fill(0);
  }
}

const MAX_TOKEN_FILE_BYTES = 16 * 1024;

export function readTokenFile(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new SignerError('CONFIG_INVALID', `cannot read the container token file ${path} (${code}): check the path and its permissions`, { cause });
  }
  let buffer: Buffer | undefined;
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      throw new SignerError('CONFIG_INVALID', `the container token file ${path} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}: name a file that holds only the token (it is created when missing)`);
    }
    const size = info.size;
    if (size > MAX_TOKEN_FILE_BYTES) throw new SignerError('CONFIG_INVALID', `the container token file ${path} is larger than 16 KiB: it should hold only the token`);
    buffer = Buffer.alloc(size);
    const token = buffer.subarray(0, readSync(fd, buffer, 0, size, 0));
    if (token.length === 0) throw new SignerError('CONFIG_INVALID', `the container token file ${path} is empty: write the token into it`);
    if (token.includes(0x0a) || token.includes(0x0d)) {
      throw new SignerError('CONFIG_INVALID', `the container token file ${path} contains a line break, which SDKs refuse to send in a header: write the token without a newline (printf, not echo)`);
    }
    return token;
  } catch (error) {
    // A refused file may still hold a usable token (one with a trailing newline, say).
    buffer?.fill(0);
    throw error;
  } finally {
    closeSync(fd);
  }
}

function digest(value: Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
