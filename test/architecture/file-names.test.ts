import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { repoRoot } from '../helpers/paths.js';

/** Every TypeScript file of the project is named in kebab-case: one convention (ARCHITECTURE.md). */
function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const KEBAB_CASE = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.test)?(?:\.d)?\.ts$/;

t.test('every .ts file under src/, test/ and scripts/ has a kebab-case name', async (t) => {
  const files = ['src', 'test', 'scripts'].flatMap((dir) => typeScriptFiles(join(repoRoot, dir)));
  t.ok(files.length > 100, `found the project's files (${files.length})`);
  const offenders = files.filter((file) => !KEBAB_CASE.test(file.slice(file.lastIndexOf('/') + 1))).map((file) => relative(repoRoot, file));
  t.same(offenders, [], 'rename these to kebab-case (build-canonical-request.ts, not buildCanonicalRequest.ts)');
});
