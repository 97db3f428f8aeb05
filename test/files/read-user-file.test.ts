import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeReadFailure, readUserFile } from '../../src/files/read-user-file.js';

let dir: string;
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ras-read-'));
});
t.teardown(() => rm(dir, { recursive: true, force: true }));

function failure(path: string, maxBytes?: number): string {
  try {
    readUserFile(path, maxBytes);
  } catch (error) {
    return describeReadFailure(error);
  }
  return 'no error';
}

t.test('a regular file is read whole, up to and including the bound', async (t) => {
  const path = join(dir, 'small');
  await writeFile(path, 'x'.repeat(100));
  t.equal(readUserFile(path).toString(), 'x'.repeat(100));
  t.equal(readUserFile(path, 100).length, 100);
  t.equal(failure(path, 99), 'larger than 99 bytes');
  await writeFile(join(dir, 'empty'), '');
  t.equal(readUserFile(join(dir, 'empty')).length, 0);
});

t.test('a FIFO with no writer, /dev/zero, a directory and a sparse 2 GiB file are refused at once', async (t) => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  t.equal(failure(fifo), 'a FIFO (named pipe), not a regular file');
  t.equal(failure('/dev/zero'), 'a character device, not a regular file');
  t.equal(failure(dir), 'EISDIR');
  t.equal(failure(join(dir, 'missing')), 'ENOENT');
  const huge = join(dir, 'huge');
  await writeFile(huge, '');
  await truncate(huge, 2 * 1024 ** 3);
  t.equal(failure(huge), 'larger than 1 MiB');
});

t.test('files that report size 0 but have content (procfs) are still bounded', async (t) => {
  const text = readUserFile('/proc/self/status', 1024 * 1024).toString();
  t.match(text, /^Name:/);
  t.equal(failure('/proc/self/status', 16), 'larger than 16 bytes');
});
