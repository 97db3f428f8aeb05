import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where the hardening addon's binary is found and how it is loaded, for the npm package and a
 * checkout. The standalone executable swaps this one module for scripts/sea/native-file.ts,
 * which loads the same binary from the executable's own assets (see scripts/sea/build.ts).
 */

const PACKAGE_NAME = 'roles-anywhere-signer';

/** Compiled on this machine: by the package's install script, or by `npm run build`. */
export const BUILT_ADDON = join('native', 'build', 'Release', 'roles_anywhere_native.node');
/** Shipped inside the package (scripts/build-prebuilt.sh), for machines without a compiler. */
export const PREBUILT_ADDON = join('prebuilds', 'linux-x64', 'roles_anywhere_native.glibc.node');

/** The fix that works from an installed package as well as from a checkout. */
export const ADDON_FIX = 'with a C compiler, make and Python 3 installed, run npm rebuild roles-anywhere-signer (add -g for a global install; npm run build in a checkout)';

export type AddonFileLoad = { readonly exports: unknown; readonly path: string } | { readonly exports?: undefined; readonly reason: string };

/**
 * The binary compiled here wins (it matches this exact machine); the prebuilt one is the
 * fallback on Linux x64. A binary that is present but does not load (another libc, a damaged
 * file) is skipped for the next one, and its error is what the user sees if none loads.
 */
export function loadAddonFile(startDir: string, platform: string = process.platform, arch: string = process.arch): AddonFileLoad {
  const relatives = platform === 'linux' && arch === 'x64' ? [BUILT_ADDON, PREBUILT_ADDON] : [BUILT_ADDON];
  const root = packageRoot(startDir);
  const present = root === undefined ? [] : relatives.map((relative) => join(root, relative)).filter((path) => existsSync(path));
  if (present.length === 0) return { reason: `no native addon was shipped for ${platform}-${arch} or compiled at install: ${ADDON_FIX}` };
  let failure = '';
  for (const path of present) {
    try {
      return { exports: createRequire(import.meta.url)(path), path };
    } catch (error) {
      const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
      failure ||= `the native addon at ${path} does not load (${detail}): ${ADDON_FIX}`;
    }
  }
  return { reason: failure };
}

/**
 * This package's root: the nearest parent of `start` whose package.json is ours (dist/, a test
 * build directory and node_modules alike). Only there: a native binary is code, and a directory
 * above the package (a shared /tmp, a parent project) is not ours to load code from.
 */
function packageRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // Not ours if it does not even parse; keep looking above.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
