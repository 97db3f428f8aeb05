import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where things are, from a compiled file's point of view. Everything compiles into one output
 * directory (<outDir>/src, <outDir>/test, <outDir>/scripts), so the CLI a test or a script runs
 * is the one compiled beside it, never a stale build from elsewhere.
 */
export const buildRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The CLI as users run it: the bundle's launcher (scripts/build-cli.ts), the package's `bin`. */
export const cliPath = join(buildRoot, 'cli', 'roles-anywhere-signer.cjs');

/** The repository root: the nearest parent with package.json (fixtures, vectors, scripts). */
export const repoRoot = findRepoRoot(buildRoot);

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}
