/**
 * Writes the differential suite's result table into docs/migration.md:
 *   node dist/test/differential/write-migration-table.js
 * The rows live in test/differential/results.ts, where the differential tests assert them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { withDifferentialTable } from './table.js';

const path = join(repoRoot, 'docs', 'migration.md');
const before = readFileSync(path, 'utf8');
const after = withDifferentialTable(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(`${after === before ? 'unchanged' : 'updated'}: ${path}\n`);
