import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { RESULT_ROWS } from './results.js';
import { renderDifferentialTable, withDifferentialTable } from './table.js';

t.test('docs/migration.md holds the table generated from the differential results', async (t) => {
  const doc = await readFile(join(repoRoot, 'docs', 'migration.md'), 'utf8');
  t.ok(doc.includes(renderDifferentialTable()), 'the committed table is the generated one: run node dist/test/differential/write-migration-table.js');
  t.equal(withDifferentialTable(doc), doc, 'regenerating changes nothing');
});

t.test('every result row has a unique id and says why', async (t) => {
  const ids = RESULT_ROWS.map((row) => row.id);
  t.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const row of RESULT_ROWS) t.ok(row.note.length > 10, `${row.id} has a note`);
});

t.test('a changed row makes the check fail', async (t) => {
  const doc = withDifferentialTable('# doc\n');
  const changed = RESULT_ROWS.map((row, index) => (index === 0 ? { ...row, outcome: 'identical' as const } : row));
  t.not(withDifferentialTable(doc, renderDifferentialTable(changed)), doc);
});
