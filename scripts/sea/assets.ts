import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset } from 'node:sea';

/**
 * Runs inside the standalone executable only (bundled by scripts/sea/build.ts): loads a native
 * addon the executable carries as a SEA asset. The bytes are written into a fresh directory of
 * our own (mkdtemp: mode 0700, a name nobody can guess), loaded with process.dlopen, and the
 * directory is removed at once: Linux keeps a loaded library mapped after its file is gone, so
 * nothing is left on disk and no other user ever had a moment to swap the file.
 *
 * Candidate places, first that works: $XDG_RUNTIME_DIR (per-user, 0700), the temp directory, and
 * ~/.cache (for hosts that mount /tmp noexec, where dlopen cannot map the file).
 */
export function loadSeaAddon(assetName: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const bytes = new Uint8Array(getAsset(assetName));
  const bases = [env['XDG_RUNTIME_DIR'], tmpdir(), join(homedir(), '.cache')].filter((base): base is string => base !== undefined && base !== '');
  let lastError: unknown;
  for (const base of bases) {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(join(base, 'roles-anywhere-signer-'));
      const path = join(dir, assetName);
      writeFileSync(path, bytes, { mode: 0o500, flag: 'wx' });
      const module = { exports: {} as unknown };
      process.dlopen(module, path);
      return module.exports;
    } catch (error) {
      lastError = error;
    } finally {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  }
  const detail = lastError instanceof Error ? lastError.message.split('\n')[0] : String(lastError);
  throw new Error(`the executable's ${assetName} could not be loaded from ${bases.join(', ')} (${detail}): set XDG_RUNTIME_DIR to a private directory on a file system that allows executables`);
}
