import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { SignerError } from '../errors.js';

/**
 * Makes sure the container token file exists: an existing file is left alone (it may be a
 * Kubernetes secret or shared with the client); a missing one is created with 32 random bytes,
 * base64url, no newline (SDKs refuse line breaks in the header), mode 0600, never overwriting.
 */
export async function createContainerTokenFile(path: string): Promise<'existing' | 'created'> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'existing';
    throw new SignerError('CONFIG_INVALID', `cannot create the container token file ${path} (${code ?? 'error'}): check that its directory exists and is writable`, { cause: error });
  }
  try {
    await handle.writeFile(randomBytes(32).toString('base64url'));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return 'created';
}
