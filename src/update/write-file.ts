import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, realpath, rename, stat, unlink, chmod } from 'node:fs/promises';
import { describeReadFailure, readUserFile } from '../files/read-user-file.js';
import { dirname, join } from 'node:path';
import { replacePrivateFile } from '../fs/private-file.js';
import { SignerError, isSignerError } from '../errors.js';
import type { Credentials } from '../credentials/types.js';
import { setProfileCredentials } from './credentials-file.js';

export interface WriteProfileOptions {
  readonly path: string;
  readonly profile: string;
  readonly credentials: Credentials;
  /** How long to wait for another writer's lock; default 10 s. */
  readonly lockTimeoutMs?: number;
  /** A lock older than this, or whose process is gone, is broken; default 30 s. */
  readonly staleLockMs?: number;
}

/**
 * Writes one profile's credentials into a shared credentials file without ever exposing a
 * half-written file or losing another writer's update (the reference helper rewrites in place,
 * unlocked): lock (`<file>.lock`, O_EXCL), read, edit, write a temporary file beside the target
 * (mode 0600, fsync), rename it over the target, fsync the directory, unlock. A symlinked file
 * is written through to its target, so dotfile managers keep their link. A directory created
 * here gets mode 0700.
 */
export async function writeProfileCredentials(options: WriteProfileOptions): Promise<string> {
  const target = await resolveTarget(options.path);
  const directory = dirname(target);
  await ensureDirectory(directory);
  const release = await acquireLock(`${target}.lock`, options.lockTimeoutMs ?? 10_000, options.staleLockMs ?? 30_000, target);
  try {
    const current = await readExisting(target);
    const profile = Buffer.from(options.profile, 'utf8').toString('latin1');
    const next = Buffer.from(setProfileCredentials(current.toString('latin1'), profile, options.credentials), 'latin1');
    await replacePrivateFile(target, next).catch((error: unknown) => {
      throw fileError(`cannot write ${target} (through a temporary file in ${directory})`, error);
    });
    return target;
  } finally {
    await release();
  }
}

/** AWS_SHARED_CREDENTIALS_FILE (with ~ expanded, as the SDKs do) or ~/.aws/credentials. */
export function credentialsFilePath(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const configured = env['AWS_SHARED_CREDENTIALS_FILE'];
  if (configured !== undefined && configured !== '') {
    return configured === '~' || configured.startsWith('~/') ? join(home, configured.slice(1)) : configured;
  }
  return join(home, '.aws', 'credentials');
}

async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw fileError(`cannot resolve ${path}`, error);
  }
}

/**
 * Creates the missing directories one level at a time. Not `mkdir(..., { recursive: true })`:
 * under /proc, procfs answers ENOENT to the mkdir and Node's recursive walk retries forever.
 */
async function ensureDirectory(directory: string): Promise<void> {
  const missing: string[] = [];
  for (let current = directory; ; current = dirname(current)) {
    const info = await stat(current).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileError(`cannot create the directory ${directory}`, error);
    });
    if (info !== undefined) {
      if (!info.isDirectory()) throw fileError(`cannot create the directory ${directory}: ${current} is not a directory`, errno('ENOTDIR', current));
      break;
    }
    if (dirname(current) === current || missing.length >= MAX_DIRECTORIES_CREATED) throw fileError(`cannot create the directory ${directory}`, errno('ENOENT', current));
    missing.unshift(current);
  }
  for (const path of missing) {
    try {
      await mkdir(path, { mode: 0o700 });
      await chmod(path, 0o700);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const raced = code === 'EEXIST' && (await stat(path).then((info) => info.isDirectory(), () => false));
      if (!raced) throw fileError(`cannot create the directory ${path}`, error);
    }
  }
}

const MAX_DIRECTORIES_CREATED = 32;

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), { code, path });
}

/** Bounded and regular files only: a FIFO named as the credentials file must not hang update. */
const MAX_CREDENTIALS_FILE_BYTES = 16 * 1024 * 1024;

async function readExisting(path: string): Promise<Buffer> {
  try {
    return readUserFile(path, MAX_CREDENTIALS_FILE_BYTES);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw new SignerError('CREDENTIALS_FILE_FAILED', `cannot read ${path} (${describeReadFailure(error)}): check the path and its permissions`, { cause: error });
  }
}

/**
 * An exclusive lock file holding `pid:nonce`. A holder that died (no such pid) or held it too
 * long is broken by renaming the lock aside and checking it is still the one judged stale; if
 * a live writer's fresh lock was moved by a race, it is linked back.
 */
async function acquireLock(lockPath: string, timeoutMs: number, staleMs: number, target: string): Promise<() => Promise<void>> {
  const owner = `${process.pid}:${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(`${owner}\n`);
        await handle.close();
      } catch (error) {
        // A full disk lets the empty file be created but not written: never leave it behind.
        await handle.close().catch(() => {});
        await unlink(lockPath).catch(() => {});
        throw fileError(`cannot write the lock file ${lockPath}`, error);
      }
      return async () => {
        const content = await readFile(lockPath, 'utf8').catch(() => '');
        if (content.startsWith(`${owner}\n`)) await unlink(lockPath).catch(() => {});
      };
    } catch (error) {
      if (isSignerError(error)) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(`cannot create the lock file ${lockPath}`, error);
    }
    const holder = await readFile(lockPath, 'utf8').catch((error: unknown) => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined));
    if (holder === null) continue; // released meanwhile: try again at once
    if (await isStale(lockPath, holder, staleMs)) {
      await breakStaleLock(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      const pid = lockHolderPid(holder) ?? 'unknown';
      throw new SignerError('CREDENTIALS_FILE_FAILED', `${target} is locked by another writer (pid ${pid}, lock ${lockPath}) for more than ${timeoutMs / 1000} s: wait for it, or delete the lock file if no update is running`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 40)));
  }
}

/**
 * A live writer writes `pid:nonce` right after creating the lock; a lock still empty, garbled
 * or unreadable after this long belongs to a writer that failed in between (a full disk) or
 * to something else, and is broken rather than waited on.
 */
const MALFORMED_LOCK_GRACE_MS = 1000;

async function isStale(lockPath: string, holder: string | undefined, staleMs: number): Promise<boolean> {
  const info = await stat(lockPath).catch(() => undefined);
  if (info === undefined) return false; // gone: the next attempt takes it
  const age = Date.now() - info.mtimeMs;
  const pid = lockHolderPid(holder);
  if (pid === undefined) return age > MALFORMED_LOCK_GRACE_MS;
  if (!processExists(pid)) return true;
  return age > staleMs;
}

function lockHolderPid(holder: string | undefined): number | undefined {
  const match = holder === undefined ? null : /^(\d{1,10}):[^\n]*\n$/.exec(holder);
  const pid = match === null ? Number.NaN : Number(match[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function breakStaleLock(lockPath: string, judged: string | undefined): Promise<void> {
  const aside = `${lockPath}.stale.${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== judged) await link(aside, lockPath).catch(() => {});
  await unlink(aside).catch(() => {});
}

function fileError(what: string, error: unknown): SignerError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new SignerError('CREDENTIALS_FILE_FAILED', `${what} (${code}): check the path and its permissions`, { cause: error });
}
