import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { repoRoot } from '../helpers/paths.js';
import { NEEDS, codeBlocks, isShellBlock, outputMatches, transcriptSteps } from './doc-blocks.js';
import { guideFiles } from './guide-runner.js';

/** Every shell block of the guides is marked, and docs/README.md lists what is not run. */

t.test('the checks themselves can fail', async (t) => {
  const markdown = ['```sh {run}', 'echo hi', '```', '```sh', 'ls', '```', '```', '$ x --help', 'Usage: x', '```', '```sh {needs=yubikey}', 'ykman', '```', '```sh {rnu}', 'a', '```', '```ini', 'a=1', '```'].join('\n');
  const blocks = codeBlocks(markdown);
  t.same(blocks.map((block) => [block.line, block.language, block.run, block.needs ?? null, isShellBlock(block)]), [
    [1, 'sh', true, null, true],
    [4, 'sh', false, null, true],
    [7, '', false, null, true],
    [11, 'sh', false, 'yubikey', true],
    [14, 'sh', false, null, true],
    [17, 'ini', false, null, false],
  ]);
  t.same(blocks[4]?.unknownMarks, ['rnu']);
  t.same(transcriptSteps('$ a \\\n  --b\nout 1\nout 2\n\n$ c\n'), [{ command: 'a \\\n  --b', expected: 'out 1\nout 2' }, { command: 'c', expected: '' }]);
  t.ok(outputMatches('{"Version":1,"AccessKeyId":"ASIA...","Expiration":"..."}', '{"Version":1,"AccessKeyId":"ASIAXYZ","Expiration":"2030-01-01T00:00:00Z"}'));
  t.notOk(outputMatches('{"Version":1,"AccessKeyId":"ASIA..."}', 'roles-anywhere-signer: no such file'), 'a failure does not match a success');
  t.ok(outputMatches('Wrote ... to .../emu:\n...\nNext, start', 'Wrote a PKI to /tmp/x/emu:\n  a\n  b\nNext, start\n'), 'a ... line spans lines');
  t.notOk(outputMatches('line one\nline two', 'line one\n'), 'a missing line fails');
  t.notOk(outputMatches('a.c', 'abc'), 'a dot is a dot');
});

t.test('every shell block is marked {run} or {needs=...}, with known needs', async (t) => {
  for (const file of guideFiles) {
    const blocks = codeBlocks(readFileSync(file, 'utf8'));
    const name = relative(repoRoot, file);
    const unmarked = blocks.filter((block) => isShellBlock(block) && !block.run && block.needs === undefined).map((block) => `${name}:${String(block.line)}`);
    t.same(unmarked, [], `${name}: shell blocks without a mark`);
    t.same(blocks.flatMap((block) => block.unknownMarks.map((mark) => `${name}:${String(block.line)} {${mark}}`)), [], `${name}: unknown marks`);
    t.same(blocks.filter((block) => block.needs !== undefined && NEEDS[block.needs] === undefined).map((block) => `${name}:${String(block.line)} needs=${block.needs ?? ''}`), [], `${name}: needs are among ${Object.keys(NEEDS).join(', ')}`);
    t.same(blocks.filter((block) => block.run && block.needs !== undefined).map((block) => `${name}:${String(block.line)}`), [], `${name}: a block is run or needs something, not both`);
  }
});

t.test('docs/README.md lists every block that CI cannot run, per guide and need', async (t) => {
  const expected = new Map<string, number>();
  for (const file of guideFiles) {
    for (const block of codeBlocks(readFileSync(file, 'utf8'))) {
      if (block.needs === undefined) continue;
      const key = `${relative(join(repoRoot, 'docs'), file)} ${block.needs}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
  }
  const listed = new Map<string, number>();
  for (const match of readFileSync(join(repoRoot, 'docs', 'README.md'), 'utf8').matchAll(/^\| \[[^\]]+\]\(([^)]+)\) \| `([a-z0-9.-]+)` \| (\d+) \|/gm)) {
    listed.set(`${match[1] ?? ''} ${match[2] ?? ''}`, Number(match[3]));
  }
  t.ok(expected.size > 0, 'some blocks need what CI lacks');
  t.same([...listed].sort(), [...expected].sort(), 'rows "| [guide.md](guide.md) | `need` | count |" match the marked blocks');
  for (const need of Object.keys(NEEDS)) {
    t.match(readFileSync(join(repoRoot, 'docs', 'README.md'), 'utf8'), new RegExp(`^\\| \`${need}\` \\| `, 'm'), `docs/README.md explains the need ${need}`);
  }
});
