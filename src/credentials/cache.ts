import { formatExpiration, type Credentials } from './types.js';
import { prepareSession } from '../rolesanywhere/session.js';
import type { ObtainOptions } from './obtain.js';
import { cacheKey, certificateIdentity } from './cache/key.js';
import { openCacheDirectory } from './cache/directory.js';
import { readCacheEntry, writeCacheEntry } from './cache/entry.js';

export { cacheKey, certificateIdentity, type CacheKeyParts } from './cache/key.js';
export { defaultCacheDirectory, openCacheDirectory } from './cache/directory.js';
export { readCacheEntry, writeCacheEntry, type CacheLookup } from './cache/entry.js';

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
 *
 * Split by job: cache/key.ts (what the key is made of), cache/directory.ts (where entries live
 * and who may own them), cache/entry.ts (reading and writing one entry); this file composes them.
 */
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
  const certificate = await certificateIdentity(options.identity);
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
  const directory = openCacheDirectory(options.cacheDirectory, options.uid, options.debug);
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
