import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The private-file writer shared by the credential cache, `update` and `enroll --tpm`:
 * credentials and key files on disk are only ever written this way.
 */
/**
 * Replaces `target` so that readers see the old file or the new one, never part of one: a
 * temporary file beside it (O_EXCL, mode exactly 0600 whatever the umask), fsync, rename over
 * the target, fsync of the directory. Errors are the file system's own (callers word them).
 */
export async function replacePrivateFile(target: string, data: string | Uint8Array): Promise<void> {
  const temporary = await writeTemporaryBeside(target, data);
  try {
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(dirname(target));
}

/**
 * Creates `target`, which must not exist, whole or not at all: the same temporary file (O_EXCL,
 * mode exactly 0600), then link(2), which fails with EEXIST instead of replacing a file that
 * appeared meanwhile. For key files, which are never overwritten.
 */
export async function createPrivateFile(target: string, data: string | Uint8Array): Promise<void> {
  const temporary = await writeTemporaryBeside(target, data);
  try {
    await link(temporary, target);
  } finally {
    await unlink(temporary).catch(() => {});
  }
  await syncDirectory(dirname(target));
}

/** A new file (O_EXCL, mode exactly 0600 whatever the umask) beside `target`, written and synced. */
async function writeTemporaryBeside(target: string, data: string | Uint8Array): Promise<string> {
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  return temporary;
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
