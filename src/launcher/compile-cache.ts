import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksum64 } from './checksum.js';

/**
 * The V8 code cache of the CLI's bundled chunks, one file per build and Node version: what
 * `module.enableCompileCache()` does on Node 22, which Node 20 lacks. V8 trusts the bytecode it
 * is given (it checks only its own version, flags and the source's length), so the file is read
 * only when this user owns it and nobody else can write it or its directory, and its name
 * carries a digest of every chunk, so a cache never meets a build it was not made from.
 *
 * V8 checks no checksum of a code cache in release builds: a damaged one can crash the process
 * (seen in test/launcher/launch-e2e.test.ts). So each entry carries a checksum of its bytes
 * (checksum.ts: against damage; who may write the file is the owner and mode checks' job),
 * checked when that chunk is loaded (only the chunks a command uses), and an entry that does not
 * match is never handed to V8.
 *
 * Layout: "RASCC4\0\0", u32 count, then per chunk: u16 name length, name (latin1), u64
 * checksum of the data, u32 data length, data (integers little-endian). A file that does not
 * parse is an empty cache, never an error.
 */
const MAGIC = Buffer.from('RASCC4\0\0', 'latin1');
const FORMAT_TAG = 'cc4';
const CHECKSUM_BYTES = 8;
/** Far above a real cache (a few MiB with every command's chunks); a bigger file is not ours. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** Another build's cache left this long unused is removed when a new one is written. */
const STALE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;

export interface CodeCache {
  /** The cached data of a chunk, only once its checksum checks out. */
  get(name: string): Uint8Array | undefined;
  /** Every entry as stored (checked or not), to write back with a run's additions. */
  readonly stored: ReadonlyMap<string, Uint8Array>;
}

export const EMPTY_CODE_CACHE: CodeCache = { get: () => undefined, stored: new Map() };

export interface CacheLocation {
  readonly dir: string;
  readonly file: string;
}

/**
 * Where the cache lives: $XDG_CACHE_HOME (else ~/.cache)/roles-anywhere-signer/compile-cache.
 * ROLES_ANYWHERE_SIGNER_COMPILE_CACHE=0 (or off, false, no) turns it off; so does the lack of a
 * home directory. The name: build digest, Node version, architecture, and a digest of Node's
 * options (`node.options`: the command line's and NODE_OPTIONS), because V8 refuses a cache made
 * under other flags: two callers with different options would otherwise overwrite each other's
 * cache on every run.
 */
export function cacheLocation(env: Readonly<Record<string, string | undefined>>, buildId: string, node: { version: string; arch: string; options?: string }): CacheLocation | undefined {
  const setting = env['ROLES_ANYWHERE_SIGNER_COMPILE_CACHE']?.trim().toLowerCase();
  if (setting !== undefined && ['0', 'off', 'false', 'no'].includes(setting)) return undefined;
  const base = nonEmpty(env['XDG_CACHE_HOME']) ?? (nonEmpty(env['HOME']) !== undefined ? join(env['HOME'] as string, '.cache') : undefined);
  if (base === undefined || !/^[0-9a-f]{8,64}$/.test(buildId)) return undefined;
  const dir = join(base, 'roles-anywhere-signer', 'compile-cache');
  const options = node.options === undefined || node.options === '' ? '' : `-o${fnv1a(node.options)}`;
  // The format is in the name too: a launcher change alone leaves the chunks (and so the build id) as they were.
  return { dir, file: join(dir, `${buildId}-${FORMAT_TAG}-node${node.version.replace(/[^0-9A-Za-z.]/g, '')}-${node.arch.replace(/[^0-9A-Za-z]/g, '')}${options}.bin`) };
}

/** A short name for a short string (Node's options): FNV-1a, 32 bits, as hex. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Owned by this user and writable by nobody else: the only cache V8 may be handed. */
function privateTo(uid: number | undefined, stats: { uid: number; mode: number }): boolean {
  return (uid === undefined || stats.uid === uid) && (stats.mode & 0o022) === 0;
}

/** The cache for this build, or an empty one when there is none or it is not safe to use. */
export function readCodeCache(location: CacheLocation, uid: number | undefined): CodeCache {
  let fd: number | undefined;
  try {
    if (!privateTo(uid, statSync(location.dir))) return EMPTY_CODE_CACHE;
    fd = openSync(location.file, 'r');
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_CACHE_BYTES || !privateTo(uid, stats)) return EMPTY_CODE_CACHE;
    // One read of the size fstat gave (readFileSync(fd) reads in steps, and slower).
    const bytes = Buffer.allocUnsafeSlow(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (read === 0) return EMPTY_CODE_CACHE;
      filled += read;
    }
    return decodeCodeCache(bytes);
  } catch {
    return EMPTY_CODE_CACHE;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function decodeCodeCache(bytes: Buffer): CodeCache {
  const checksums = new Map<string, bigint>();
  const stored = new Map<string, Uint8Array>();
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return EMPTY_CODE_CACHE;
  let offset = MAGIC.length;
  const count = bytes.readUInt32LE(offset);
  offset += 4;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.length) return EMPTY_CODE_CACHE;
    const nameLength = bytes.readUInt16LE(offset);
    offset += 2;
    if (offset + nameLength + CHECKSUM_BYTES + 4 > bytes.length) return EMPTY_CODE_CACHE;
    const name = bytes.toString('latin1', offset, offset + nameLength);
    offset += nameLength;
    checksums.set(name, bytes.readBigUInt64LE(offset));
    offset += CHECKSUM_BYTES;
    const dataLength = bytes.readUInt32LE(offset);
    offset += 4;
    if (offset + dataLength > bytes.length) return EMPTY_CODE_CACHE;
    stored.set(name, bytes.subarray(offset, offset + dataLength));
    offset += dataLength;
  }
  if (offset !== bytes.length) return EMPTY_CODE_CACHE;
  return {
    stored,
    get(name) {
      const data = stored.get(name);
      const expected = checksums.get(name);
      return data !== undefined && expected !== undefined && checksum64(data) === expected ? data : undefined;
    },
  };
}

/** The file's bytes, or undefined where no checksum can be made (then no cache is written). */
export function encodeCodeCache(entries: ReadonlyMap<string, Uint8Array>): Buffer | undefined {
  const parts: Buffer[] = [MAGIC, u32(entries.size)];
  for (const [name, data] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const checksum = checksum64(data);
    if (checksum === undefined) return undefined;
    const encodedName = Buffer.from(name, 'latin1');
    const header = Buffer.alloc(2 + encodedName.length + CHECKSUM_BYTES);
    header.writeUInt16LE(encodedName.length);
    encodedName.copy(header, 2);
    header.writeBigUInt64LE(checksum, 2 + encodedName.length);
    parts.push(header, u32(data.length), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  return Buffer.concat(parts);
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

/**
 * Writes the cache whole: a private temporary file renamed over the old one, so a reader (two
 * `aws` commands start the CLI at once) sees the old cache or the new one, never half of one.
 * Best effort: a read-only home or a full disk only costs the next start its compile time.
 */
export function writeCodeCache(location: CacheLocation, entries: ReadonlyMap<string, Uint8Array>, uid: number | undefined, now: number = Date.now()): boolean {
  const temporary = `${location.file}.${process.pid}.tmp`;
  try {
    mkdirSync(location.dir, { recursive: true, mode: 0o700 });
    // A directory others can write to would not be read back (readCodeCache): do not fill it.
    if (!privateTo(uid, statSync(location.dir))) return false;
    const bytes = encodeCodeCache(entries);
    if (bytes === undefined) return false;
    writeFileSync(temporary, bytes, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, location.file);
    removeStaleCaches(location, now);
    return true;
  } catch {
    try {
      unlinkSync(temporary);
    } catch {
      // never created
    }
    return false;
  }
}

/** Caches of other builds or Node versions nobody has rewritten for a month. */
function removeStaleCaches(location: CacheLocation, now: number): void {
  for (const name of readdirSync(location.dir)) {
    const path = join(location.dir, name);
    if (path === location.file || !name.endsWith('.bin')) continue;
    try {
      if (now - statSync(path).mtimeMs > STALE_AFTER_MS) rmSync(path, { force: true });
    } catch {
      // gone already
    }
  }
}
