import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { SignerError } from '../../errors.js';
import { formatExpiration, type Credentials } from '../types.js';

/** Credentials are handed out only while more than this remains (botocore refreshes inside it). */
export const CACHE_MIN_REMAINING_MS = 15 * 60_000;
const MAX_ENTRY_BYTES = 64 * 1024;
const ENTRY_VERSION = 1;

export type CacheLookup = { readonly credentials: Credentials } | { readonly credentials?: undefined; readonly reason: string };

/** Reads an entry and says why it is not usable, for --debug; never throws. */
export function readCacheEntry(directory: string, key: string, now: Date, uid: number | undefined): CacheLookup {
  const path = join(directory, `${key}.json`);
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { reason: code === 'ENOENT' ? 'no entry' : `entry not readable (${code ?? 'error'})` };
  }
  let text: string;
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { reason: 'entry is not a regular file' };
    if (uid !== undefined && info.uid !== uid) return { reason: `entry belongs to uid ${info.uid}` };
    if (uid !== undefined && (info.mode & 0o077) !== 0) return { reason: `entry mode ${(info.mode & 0o777).toString(8)} is not private` };
    if (info.size > MAX_ENTRY_BYTES) return { reason: 'entry is too large' };
    const buffer = Buffer.alloc(info.size);
    const read = readSync(fd, buffer, 0, info.size, 0);
    text = buffer.subarray(0, read).toString('utf8');
    buffer.fill(0);
  } finally {
    closeSync(fd);
  }
  const entry = parseEntry(text);
  if (entry === undefined) return { reason: 'entry is corrupt' };
  if (entry.key !== key) return { reason: 'entry is for another key' };
  const remaining = entry.credentials.expiration.getTime() - now.getTime();
  if (remaining <= CACHE_MIN_REMAINING_MS) return { reason: `entry expires at ${formatExpiration(entry.credentials.expiration)}, within 15 minutes` };
  return { credentials: entry.credentials };
}

function parseEntry(text: string): { key: string; credentials: Credentials } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { version, key, accessKeyId, secretAccessKey, sessionToken, expiration } = value as Record<string, unknown>;
  if (version !== ENTRY_VERSION || typeof key !== 'string') return undefined;
  for (const field of [accessKeyId, secretAccessKey, sessionToken, expiration]) {
    if (typeof field !== 'string' || field === '') return undefined;
  }
  const expires = new Date(expiration as string);
  if (Number.isNaN(expires.getTime())) return undefined;
  return { key, credentials: { accessKeyId: accessKeyId as string, secretAccessKey: secretAccessKey as string, sessionToken: sessionToken as string, expiration: expires } };
}

/** Writes an entry atomically (0600 temporary file, fsync, rename over whatever was there). */
export async function writeCacheEntry(directory: string, key: string, credentials: Credentials): Promise<void> {
  const body = JSON.stringify({
    version: ENTRY_VERSION,
    key,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiration: credentials.expiration.toISOString(),
  });
  try {
    // Loaded only to write: a cache hit never needs the writer (nor node:fs/promises behind it).
    const { replacePrivateFile } = await import('../../fs/private-file.js');
    await replacePrivateFile(join(directory, `${key}.json`), body);
  } catch (error) {
    throw new SignerError('CACHE_FAILED', `cannot write the credential cache entry in ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}
