import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createPrivateFile, replacePrivateFile } from '../../src/fs/private-file.js';

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'private-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('createPrivateFile: a new file, mode 0600 whatever the umask, no temporary left', async (t) => {
  const dir = scratch(t);
  const previous = process.umask(0o000);
  try {
    await createPrivateFile(join(dir, 'key.pem'), 'secret\n');
  } finally {
    process.umask(previous);
  }
  t.equal(readFileSync(join(dir, 'key.pem'), 'utf8'), 'secret\n');
  t.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
  t.same(readdirSync(dir), ['key.pem']);
});

t.test('createPrivateFile never replaces a file: EEXIST, the old content kept, no temporary left', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'key.pem'), 'old\n');
  await t.rejects(createPrivateFile(join(dir, 'key.pem'), 'new\n'), { code: 'EEXIST' });
  t.equal(readFileSync(join(dir, 'key.pem'), 'utf8'), 'old\n');
  t.same(readdirSync(dir), ['key.pem']);
  await t.rejects(createPrivateFile(join(dir, 'missing', 'key.pem'), 'x'), { code: 'ENOENT' });
});

t.test('replacePrivateFile replaces whole, mode 0600', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'credentials'), 'old\n', { mode: 0o644 });
  await replacePrivateFile(join(dir, 'credentials'), 'new\n');
  t.equal(readFileSync(join(dir, 'credentials'), 'utf8'), 'new\n');
  t.equal(statSync(join(dir, 'credentials')).mode & 0o777, 0o600);
  t.same(readdirSync(dir), ['credentials']);
});
