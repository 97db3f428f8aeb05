/**
 * The layer rule of ARCHITECTURE.md, checked over the real import graph of src/: every import
 * (value, type-only or dynamic) points to a lower layer or stays inside its own folder, and no
 * files import each other in a cycle. Reads the TypeScript sources; runs nothing.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { sourceFiles } from './source-files.js';

const SRC = join(repoRoot, 'src');

/** Low to high. A folder (or top-level file) may import only from a lower rank or from itself. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['errors.ts', 'debug.ts', 'version.ts', 'native.ts', 'native-file.ts', 'service-limits.ts', 'terminal-text.ts', 'std-output.ts', 'asn1', 'fs', 'files'],
  ['sigv4x509'],
  ['certs'],
  ['keys'],
  ['rolesanywhere'],
  ['credentials'],
  ['serve', 'update', 'emulator', 'enroll'],
  // doctor runs the emulator's path validation on purpose: one set of rules on both sides.
  ['doctor'],
  ['index.ts', 'emulator.ts'],
  ['cli', 'launcher'],
];
const BASE = 'base';

/** Cycles known to exist, each listed until it is removed; none today. */
const KNOWN_CYCLES: ReadonlySet<string> = new Set<string>([]);


/** Relative specifiers of `import ... from`, `export ... from`, `import '...'` and `import('...')`. */
export function importSpecifiers(text: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  return [...text.matchAll(pattern)].map((match) => match[1] as string);
}

/** The group a file belongs to: its top folder or top-level file, or the base group. */
function groupOf(file: string): string {
  const top = relative(SRC, file).split(sep)[0] as string;
  return LAYERS[0]?.includes(top) === true ? BASE : top;
}

function rankOf(group: string): number {
  if (group === BASE) return 0;
  const rank = LAYERS.findIndex((layer) => layer.includes(group));
  return rank;
}

const files = sourceFiles(SRC);
const edges = new Map<string, string[]>();
for (const file of files) {
  const targets = importSpecifiers(readFileSync(file, 'utf8')).map((specifier) => resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
  edges.set(file, targets);
}

t.test('every file of src/ belongs to a layer', async (t) => {
  const unplaced = files.filter((file) => rankOf(groupOf(file)) < 0).map((file) => relative(SRC, file));
  t.same(unplaced, [], 'add new folders to LAYERS here and to the layer table in ARCHITECTURE.md');
});

t.test('imports point down the layers (or stay in their folder)', async (t) => {
  const upward: string[] = [];
  for (const [file, targets] of edges) {
    const from = groupOf(file);
    for (const target of targets) {
      const to = groupOf(target);
      if (relative(SRC, target).startsWith('..')) {
        upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)} (outside src/)`);
        continue;
      }
      if (from === to) continue;
      if (rankOf(to) >= rankOf(from)) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  t.same(upward, [], 'imports that point up or sideways');
});

t.test('no import cycles between files', async (t) => {
  const cycles = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === 'open') {
        const cycle = stack.slice(stack.indexOf(target)).map((path) => relative(SRC, path));
        // Written from its smallest file so each cycle has one spelling.
        const start = cycle.indexOf([...cycle].sort()[0] as string);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.add([...rotated, rotated[0]].join(' -> '));
      } else if (!state.has(target) && edges.has(target)) {
        visit(target);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...edges.keys()].sort()) if (!state.has(file)) visit(file);
  t.same([...cycles].filter((cycle) => !KNOWN_CYCLES.has(cycle)).sort(), [], 'cycles not listed as known');
  // A known cycle that is gone is good news, not a failure: say so, so the entry gets removed.
  for (const known of KNOWN_CYCLES) if (!cycles.has(known)) t.comment(`fixed, remove from KNOWN_CYCLES: ${known}`);
});

t.test('the checker sees value, type-only, side-effect and dynamic imports', async (t) => {
  t.same(importSpecifiers([
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export { c } from './c.js';",
    "import './d.js';",
    "const e = await import('./e.js');",
    "import { f } from 'node:fs';",
  ].join('\n')), ['./a.js', '../b.js', './c.js', './d.js', './e.js']);
});
