import t from 'tap';
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile, chmod, readdir, mkdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFilePath, writeProfileCredentials } from '../../src/update/write-file.js';

const creds = (id: string) => ({ accessKeyId: `ASIA${id}`, secretAccessKey: `secret-${id}`, sessionToken: `token-${id}`, expiration: new Date('2030-01-01T00:00:00Z') });

let dir: string;
t.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ras-update-'));
});
t.afterEach(() => rm(dir, { recursive: true, force: true }));

t.test('a new file in a new directory: directory 0700, file 0600, no lock or temporary file left', async (t) => {
  const path = join(dir, 'new', '.aws', 'credentials');
  t.equal(await writeProfileCredentials({ path, profile: 'default', credentials: creds('ONE') }), path);
  t.equal((await stat(join(dir, 'new', '.aws'))).mode & 0o777, 0o700);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  t.equal(await readFile(path, 'utf8'), '[default]\naws_access_key_id = ASIAONE\naws_secret_access_key = secret-ONE\naws_session_token = token-ONE\n');
  t.same(await readdir(join(dir, 'new', '.aws')), ['credentials']);
});

t.test('an existing file keeps its other bytes and becomes 0600', async (t) => {
  const path = join(dir, 'credentials');
  await writeFile(path, '[keep]\naws_access_key_id = AKIAKEEP\n\n[default]\naws_access_key_id = OLD\nregion = x\n', { mode: 0o644 });
  await writeProfileCredentials({ path, profile: 'default', credentials: creds('TWO') });
  t.equal(await readFile(path, 'utf8'), '[keep]\naws_access_key_id = AKIAKEEP\n\n[default]\naws_access_key_id = ASIATWO\nregion = x\naws_secret_access_key = secret-TWO\naws_session_token = token-TWO\n');
  t.equal((await stat(path)).mode & 0o777, 0o600);
});

t.test('a symlinked credentials file is written through, the link stays', async (t) => {
  const real = join(dir, 'dotfiles-credentials');
  await writeFile(real, '[a]\nk = v\n');
  const link = join(dir, 'credentials');
  await symlink(real, link);
  await writeProfileCredentials({ path: link, profile: 'default', credentials: creds('THREE') });
  t.ok((await lstat(link)).isSymbolicLink(), 'still a symlink');
  t.match(await readFile(real, 'utf8'), /^\[a\]\nk = v\n\n\[default\]\naws_access_key_id = ASIATHREE\n/);
});

t.test('32 writers at once, each its own profile: no update is lost', async (t) => {
  const path = join(dir, 'credentials');
  await Promise.all(Array.from({ length: 32 }, (_, i) => writeProfileCredentials({ path, profile: `p${i}`, credentials: creds(`N${i}`) })));
  const text = await readFile(path, 'utf8');
  for (let i = 0; i < 32; i++) t.match(text, `[p${i}]\naws_access_key_id = ASIAN${i}\naws_secret_access_key = secret-N${i}\naws_session_token = token-N${i}\n`);
  t.same(await readdir(dir), ['credentials'], 'no lock or temporary files left');
});

t.test('a lock left by a process that died is broken', async (t) => {
  const path = join(dir, 'credentials');
  await writeFile(`${path}.lock`, '999999999:deadbeef\n');
  await writeProfileCredentials({ path, profile: 'default', credentials: creds('FOUR') });
  t.match(await readFile(path, 'utf8'), /ASIAFOUR/);
  t.same(await readdir(dir), ['credentials']);
});

t.test('a lock held by a live process makes the writer wait, then give up with a clear error', async (t) => {
  const path = join(dir, 'credentials');
  await writeFile(`${path}.lock`, `${process.pid}:held-by-test\n`);
  await t.rejects(writeProfileCredentials({ path, profile: 'default', credentials: creds('FIVE'), lockTimeoutMs: 300 }), {
    code: 'CREDENTIALS_FILE_FAILED',
    message: `${path} is locked by another writer (pid ${process.pid}, lock ${path}.lock) for more than 0.3 s: wait for it, or delete the lock file if no update is running`,
  });
  t.equal(await readFile(`${path}.lock`, 'utf8'), `${process.pid}:held-by-test\n`, 'a live lock is never broken');
});

t.test('an unwritable directory is a clear error', { skip: process.getuid?.() === 0 ? 'root ignores directory permissions' : false }, async (t) => {
  const locked = join(dir, 'locked');
  await mkdir(locked);
  await chmod(locked, 0o500);
  await t.rejects(writeProfileCredentials({ path: join(locked, 'credentials'), profile: 'default', credentials: creds('SIX') }), { code: 'CREDENTIALS_FILE_FAILED' });
});

t.test('a path through a file is a clear error', async (t) => {
  const blocker = join(dir, 'a-file');
  await writeFile(blocker, '');
  await t.rejects(writeProfileCredentials({ path: join(blocker, 'credentials'), profile: 'default', credentials: creds('SIX') }), {
    code: 'CREDENTIALS_FILE_FAILED',
    message: `cannot resolve ${join(blocker, 'credentials')} (ENOTDIR): check the path and its permissions`,
  });
});

t.test('a lock older than the stale limit is broken even when its process lives', async (t) => {
  const path = join(dir, 'credentials');
  await writeFile(`${path}.lock`, `${process.pid}:stuck\n`);
  const old = new Date(Date.now() - 60_000);
  await utimes(`${path}.lock`, old, old);
  await writeProfileCredentials({ path, profile: 'default', credentials: creds('EIGHT'), staleLockMs: 30_000, lockTimeoutMs: 300 });
  t.match(await readFile(path, 'utf8'), /ASIAEIGHT/);
  t.same(await readdir(dir), ['credentials'], 'the stale lock is gone');
});

t.test('a path that is a directory is refused without touching it', async (t) => {
  const path = join(dir, 'is-a-dir');
  await mkdir(path);
  await t.rejects(writeProfileCredentials({ path, profile: 'default', credentials: creds('SEVEN') }), {
    code: 'CREDENTIALS_FILE_FAILED',
    message: `cannot read ${path} (EISDIR): check the path and its permissions`,
  });
});

t.test('the file is AWS_SHARED_CREDENTIALS_FILE (~ expanded) or ~/.aws/credentials', async (t) => {
  t.equal(credentialsFilePath({}, '/home/u'), '/home/u/.aws/credentials');
  t.equal(credentialsFilePath({ AWS_SHARED_CREDENTIALS_FILE: '' }, '/home/u'), '/home/u/.aws/credentials');
  t.equal(credentialsFilePath({ AWS_SHARED_CREDENTIALS_FILE: '/etc/aws/creds' }, '/home/u'), '/etc/aws/creds');
  t.equal(credentialsFilePath({ AWS_SHARED_CREDENTIALS_FILE: '~/x/creds' }, '/home/u'), '/home/u/x/creds');
});
