/**
 * One place writes to stdout and stderr (ARCHITECTURE.md): src/std-output.ts, which writes
 * short output straight to the descriptor and knows when a stream carries it instead. A
 * `process.stdout.write` elsewhere would bypass that: its bytes could overtake or fall behind
 * the descriptor's, and the exit would not wait for them.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { sourceFiles } from './source-files.js';

const SRC = join(repoRoot, 'src');
const OWNER = 'std-output.ts';
const STREAM_USE = /\bprocess\s*(\.\s*|\[\s*['"])(stdout|stderr)\b/;

export function streamUses(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line) && STREAM_USE.test(line)).map((line) => line.trim());
}


t.test('only src/std-output.ts touches process.stdout and process.stderr', async (t) => {
  const offenders = sourceFiles(SRC)
    .filter((file) => relative(SRC, file) !== OWNER)
    .flatMap((file) => streamUses(readFileSync(file, 'utf8')).map((line) => `${relative(SRC, file)}: ${line}`));
  t.same(offenders, [], 'write through writeStd / writeStderrQuietly, or take the stream with stdStream()');
});

t.test('the check sees each way of reaching the streams, and not comments', async (t) => {
  t.same(streamUses("process.stdout.write('x');"), ["process.stdout.write('x');"]);
  t.same(streamUses("if (process.stderr.isTTY) go();"), ['if (process.stderr.isTTY) go();']);
  t.same(streamUses("const s = process['stdout'];"), ["const s = process['stdout'];"]);
  t.same(streamUses(' * process.stdout in a comment'), []);
  t.same(streamUses('process.stdin.read();'), []);
});
