import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { DebugLog } from '../../debug.js';

const CACHE_DIR_NAME = 'roles-anywhere-signer';

/** Where entries live; see src/credentials/cache.ts. */
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
 * Synchronous on purpose: a cache hit is a handful of system calls, and node:fs/promises
 * alone (it loads readline and the file watchers) costs more than all of them.
 */
export function openCacheDirectory(directory: string, uid: number | undefined, debug: DebugLog): string | undefined {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const info = lstatSync(directory);
    if (!info.isDirectory()) {
      debug(`cache: ${directory} is not a directory; cache skipped`);
      return undefined;
    }
    if (uid !== undefined && info.uid !== uid) {
      debug(`cache: ${directory} belongs to uid ${info.uid}, not ${uid}; cache skipped`);
      return undefined;
    }
    if (uid !== undefined && (info.mode & 0o077) !== 0) chmodSync(directory, 0o700);
    return directory;
  } catch (error) {
    debug(`cache: cannot use ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'}); cache skipped`);
    return undefined;
  }
}
