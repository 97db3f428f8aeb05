import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Compiled tests live in <outDir>/test/...; the CLI they drive is the one compiled beside them
 * (<outDir>/src/cli/main.js), so a test never runs a stale build from another directory.
 */
const here = dirname(fileURLToPath(import.meta.url));
export const buildRoot = resolve(here, '..', '..');

export const cliPath = join(buildRoot, 'src', 'cli', 'main.js');

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
