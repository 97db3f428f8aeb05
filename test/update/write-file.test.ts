import t from 'tap';
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile, chmod, readdir, mkdir, utimes } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
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

t.test('under /proc the missing directory is refused at once instead of never settling', async (t) => {
  await t.rejects(writeProfileCredentials({ path: '/proc/ras-no-such-dir/aws/credentials', profile: 'default', credentials: creds('PROC') }), {
    code: 'CREDENTIALS_FILE_FAILED',
    message: 'cannot create the directory /proc/ras-no-such-dir (ENOENT): check the path and its permissions',
  });
});

t.test('missing parent directories are created one by one, 0700 each', async (t) => {
  const path = join(dir, 'a', 'b', 'c', 'credentials');
  await writeProfileCredentials({ path, profile: 'default', credentials: creds('DEEP') });
  for (const level of [join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]) t.equal((await stat(level)).mode & 0o777, 0o700, level);
  await t.rejects(writeProfileCredentials({ path: join(path, 'x', 'credentials'), profile: 'default', credentials: creds('DEEP') }), { code: 'CREDENTIALS_FILE_FAILED' });
});

t.test('an empty or garbled lock (a writer that died before writing its pid) is stale after a second', async (t) => {
  const path = join(dir, 'credentials');
  for (const content of ['', 'garbage', ':\n']) {
    await writeFile(`${path}.lock`, content);
    const old = new Date(Date.now() - 2000);
    await utimes(`${path}.lock`, old, old);
    await writeProfileCredentials({ path, profile: 'default', credentials: creds('NINE'), lockTimeoutMs: 5000 });
    t.same(await readdir(dir), ['credentials'], `lock ${JSON.stringify(content)} broken and gone`);
  }
  await writeFile(`${path}.lock`, '');
  await t.rejects(writeProfileCredentials({ path, profile: 'default', credentials: creds('TEN'), lockTimeoutMs: 100 }), {
    code: 'CREDENTIALS_FILE_FAILED',
    message: `${path} is locked by another writer (pid unknown, lock ${path}.lock) for more than 0.1 s: wait for it, or delete the lock file if no update is running`,
  }, 'a fresh empty lock may be a writer between create and write: waited on');
});

/** A 64 KiB tmpfs, when this process may mount one (root with CAP_SYS_ADMIN). */
function mountSmallTmpfs(mountPoint: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const canMount = (() => {
  const probe = mkdtempSync(join(tmpdir(), 'ras-mount-probe-'));
  try {
    if (!mountSmallTmpfs(probe)) return false;
    execFileSync('umount', [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

t.test('a full disk leaves no lock behind, and the next run is not blocked', { skip: canMount ? false : 'cannot mount a small tmpfs here (needs root); the empty-lock test covers the recovery' }, async (t) => {
  const mountPoint = join(dir, 'small');
  await mkdir(mountPoint);
  t.ok(mountSmallTmpfs(mountPoint), 'mounted');
  t.teardown(() => execFileSync('umount', [mountPoint]));
  const path = join(mountPoint, 'credentials');
  // Fill the file system: creating the lock still works (an inode), writing it does not.
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(mountPoint, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd stops with ENOSPC, which is the point
  }
  await t.rejects(writeProfileCredentials({ path, profile: 'default', credentials: creds('FULL') }), {
    code: 'CREDENTIALS_FILE_FAILED',
    message: `cannot write the lock file ${path}.lock (ENOSPC): check the path and its permissions`,
  });
  t.same((await readdir(mountPoint)).sort(), ['filler'], 'no lock, no temporary file left');
  await rm(join(mountPoint, 'filler'));
  await writeProfileCredentials({ path, profile: 'default', credentials: creds('FULL') });
  t.match(await readFile(path, 'utf8'), /ASIAFULL/, 'the next run writes at once');
});
