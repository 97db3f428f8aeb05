import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { SignerError } from '../errors.js';
import { readUserFile } from '../files/read-user-file.js';
import type { DebugLog } from '../debug.js';
import { resolveKeyOptions } from '../keys/index.js';
import { formatPkcs11Uri, parsePkcs11Uri } from '../keys/pkcs11/uri.js';
import type { IdentityOptions } from '../keys/identity.js';
import { prepareSession } from '../rolesanywhere/session.js';
import type { ObtainOptions } from './obtain.js';
import { formatExpiration, type Credentials } from './types.js';

/**
 * `credential-process --cache`: SDKs never cache process credentials, so every `aws` call would
 * cost a CreateSession (10 TPS per account) and a hardware signature (a PIN, a touch). The cache
 * hands out credentials while more than 15 minutes remain (botocore refreshes inside that
 * window), keyed by everything that decides which credentials CreateSession returns.
 *
 * Entries live in $XDG_RUNTIME_DIR/roles-anywhere-signer (tmpfs, per user, cleared at logout),
 * else $XDG_CACHE_HOME or ~/.cache/roles-anywhere-signer; directory 0700, files 0600, written to
 * a temporary file and renamed. A file that is not ours, not private, not a regular file, not
 * parseable, for another key, or too close to expiry is ignored and replaced, never trusted.
 */
const CACHE_MIN_REMAINING_MS = 15 * 60_000;
const CACHE_DIR_NAME = 'roles-anywhere-signer';
const MAX_ENTRY_BYTES = 64 * 1024;
const ENTRY_VERSION = 1;

export interface CacheKeyParts {
  /** What identifies the certificate (see certificateIdentity). */
  readonly certificate: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly region: string;
  readonly endpoint: string;
  readonly durationSeconds: number;
  readonly roleSessionName?: string;
}

/** SHA-256 over the parts in a fixed order; also the file name, so nothing readable leaks through it. */
export function cacheKey(parts: CacheKeyParts): string {
  const ordered = [
    'v1',
    parts.certificate,
    parts.trustAnchorArn,
    parts.profileArn,
    parts.roleArn,
    parts.region,
    parts.endpoint,
    String(parts.durationSeconds),
    parts.roleSessionName ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
}

/**
 * Identifies the certificate without opening the key (no PIN, no touch): the SHA-256
 * fingerprint of a certificate file or of the first certificate in a TSS2 key file; for a
 * PKCS#12 file the digest of the file; for a certificate on a token, its pkcs11: URI (PIN
 * attributes removed) and module. Undefined when none of these is available (a TPM handle
 * without --certificate): then there is nothing safe to key by, and the cache is skipped.
 */
export function certificateIdentity(identity: IdentityOptions, readFile: (path: string) => Buffer = readUserFile): string | undefined {
  let resolved;
  try {
    resolved = resolveKeyOptions(identity, readFile);
  } catch {
    return undefined;
  }
  const { spec, certificateFile } = resolved;
  try {
    if (certificateFile !== undefined) return fingerprintOf(readFile(certificateFile));
    if (spec.kind === 'file' && spec.certificatePath !== undefined) {
      return `pkcs12-sha256:${createHash('sha256').update(readFile(spec.certificatePath)).digest('hex')}`;
    }
    if (spec.kind === 'pkcs11' && spec.certificateUri !== undefined) {
      // Canonical and without the PIN: equal URIs share an entry, and no PIN reaches the key.
      const { pinValue: _pinValue, pinSource: _pinSource, ...withoutPin } = parsePkcs11Uri(spec.certificateUri);
      return `pkcs11:${formatPkcs11Uri(withoutPin)}|${spec.modulePath ?? ''}`;
    }
    if (spec.kind === 'tpm' && spec.keyFile !== undefined) {
      const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(readFile(spec.keyFile).toString('latin1'));
      return pem === null ? undefined : fingerprintOf(Buffer.from(pem[0], 'latin1'));
    }
  } catch {
    // Unreadable or unparsable: the normal path reports it properly.
  }
  return undefined;
}

function fingerprintOf(certificate: Buffer): string {
  const parsed = new X509Certificate(certificate);
  return `sha256:${createHash('sha256').update(parsed.raw).digest('hex')}`;
}

/** Where entries live; see the module comment. */
export function defaultCacheDirectory(env: Readonly<Record<string, string | undefined>>, home: string): string {
  for (const base of [env['XDG_RUNTIME_DIR'], env['XDG_CACHE_HOME']]) {
    if (base !== undefined && base !== '' && isAbsolute(base)) return join(base, CACHE_DIR_NAME);
  }
  return join(home, '.cache', CACHE_DIR_NAME);
}

/**
 * Creates the directory (0700) or checks the existing one: a real directory (not a symlink),
 * owned by this user; a mode that lets others in is tightened. Undefined when it cannot be
 * made private (someone else's directory): the cache is then skipped, never used.
 */
export async function openCacheDirectory(directory: string, uid: number | undefined, debug: DebugLog): Promise<string | undefined> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const info = await lstat(directory);
    if (!info.isDirectory()) {
      debug(`cache: ${directory} is not a directory; cache skipped`);
      return undefined;
    }
    if (uid !== undefined && info.uid !== uid) {
      debug(`cache: ${directory} belongs to uid ${info.uid}, not ${uid}; cache skipped`);
      return undefined;
    }
    if (uid !== undefined && (info.mode & 0o077) !== 0) await chmod(directory, 0o700);
    return directory;
  } catch (error) {
    debug(`cache: cannot use ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'}); cache skipped`);
    return undefined;
  }
}

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
    await replacePrivateFile(join(directory, `${key}.json`), body);
  } catch (error) {
    throw new SignerError('CACHE_FAILED', `cannot write the credential cache entry in ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

/**
 * Replaces `target` so that readers see the old file or the new one, never part of one: a
 * temporary file beside it (O_EXCL, mode exactly 0600 whatever the umask), fsync, rename over
 * the target, fsync of the directory. Errors are the file system's own (callers word them).
 */
export async function replacePrivateFile(target: string, data: string | Uint8Array): Promise<void> {
  const directory = dirname(target);
  const temporary = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  }
}

export interface CachedObtainOptions extends ObtainOptions {
  readonly cacheDirectory: string;
  /** process.getuid(); undefined where there are no POSIX owners (Windows). */
  readonly uid: number | undefined;
}

/**
 * credential-process with the cache: flags are validated first (as without the cache); a
 * usable entry is returned without opening the key; otherwise the normal flow runs and its
 * result is stored. A cache that cannot be read or written never fails the command.
 */
export async function obtainCredentialsCached(options: CachedObtainOptions): Promise<Credentials> {
  const clock = options.clock ?? (() => new Date());
  const session = prepareSession(options.session, options.send);
  const certificate = certificateIdentity(options.identity);
  // Loaded only on a miss: a cache hit should not pay for the key and certificate stack.
  const obtain = async () => (await import('./obtain.js')).obtainCredentialsOnce(options);
  if (certificate === undefined) {
    options.debug('cache: no certificate to key the cache by (pass --certificate); cache skipped');
    return obtain();
  }
  const key = cacheKey({
    certificate,
    trustAnchorArn: options.session.trustAnchorArn,
    profileArn: options.session.profileArn,
    roleArn: options.session.roleArn,
    region: session.endpoint.region,
    endpoint: session.endpoint.url.origin,
    durationSeconds: options.session.durationSeconds ?? 3600,
    ...(options.session.roleSessionName !== undefined ? { roleSessionName: options.session.roleSessionName } : {}),
  });
  const directory = await openCacheDirectory(options.cacheDirectory, options.uid, options.debug);
  if (directory !== undefined) {
    const lookup = readCacheEntry(directory, key, clock(), options.uid);
    if (lookup.credentials !== undefined) {
      options.debug(`cache: hit, credentials expire at ${formatExpiration(lookup.credentials.expiration)}`);
      return lookup.credentials;
    }
    options.debug(`cache: miss (${lookup.reason})`);
  }
  const credentials = await obtain();
  if (directory !== undefined) {
    await writeCacheEntry(directory, key, credentials).then(
      () => options.debug('cache: stored'),
      (error: unknown) => options.debug((error as Error).message),
    );
  }
  return credentials;
}
