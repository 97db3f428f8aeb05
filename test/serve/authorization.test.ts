import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthorizationCheck, fixedTokenDigest, readTokenFile, tokenFileDigest } from '../../src/serve/authorization.js';
import { createContainerTokenFile } from '../../src/serve/token-file.js';

let dir: string;
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ras-auth-'));
});
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('a fixed token: exact match only', async (t) => {
  const check = createAuthorizationCheck(fixedTokenDigest(Buffer.from('s3cret')));
  t.equal(check('s3cret'), true);
  t.equal(check('s3cre'), false);
  t.equal(check('s3cret '), false);
  t.equal(check(''), false);
  t.equal(check(undefined), false);
  t.throws(() => fixedTokenDigest(Buffer.alloc(0)), { code: 'CONFIG_INVALID', message: 'the container authorization token is empty: set a non-empty token' });
});

t.test('a token file is re-read after rotation; deleted or rewritten badly, it refuses all until fixed, and says so', async (t) => {
  const path = join(dir, 'rotating');
  await writeFile(path, 'first');
  let now = 0;
  const warnings: string[] = [];
  const check = createAuthorizationCheck(tokenFileDigest({ path, clock: () => new Date(now), warn: (line) => warnings.push(line) }));
  t.equal(check('first'), true);
  await writeFile(path, 'second');
  t.equal(check('second'), false, 'not re-read within a second');
  now += 1000;
  t.equal(check('second'), true, 're-read after a second');
  t.equal(check('first'), false);
  await rm(path);
  now += 1000;
  t.equal(check('second'), false, 'a deleted file revokes the old token');
  now += 1000;
  t.equal(check('second'), false, 'still refused');
  t.same(warnings, [`cannot read the container token file ${path} (ENOENT): check the path and its permissions; every container request is refused until it is fixed`], 'warned once, not per request');
  await writeFile(path, 'second\n');
  now += 1000;
  t.equal(check('second'), false, 'a trailing newline is refused, not trimmed');
  t.equal(check('second\n'), false);
  t.equal(warnings.length, 2);
  t.equal(warnings[1], `the container token file ${path} contains a line break, which SDKs refuse to send in a header: write the token without a newline (printf, not echo); every container request is refused until it is fixed`);
  await writeFile(path, 'third');
  now += 1000;
  t.equal(check('third'), true, 'usable again once fixed');
  t.equal(warnings[2], `the container token file ${path} is usable again: requests with its token are served`);
});

t.test('a directory or FIFO as token file is refused at once with one clear line', async (t) => {
  t.throws(() => readTokenFile(dir), { code: 'CONFIG_INVALID', message: `the container token file ${dir} is a directory: name a file that holds only the token (it is created when missing)` });
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  t.throws(() => readTokenFile(fifo), { code: 'CONFIG_INVALID', message: `the container token file ${fifo} is not a regular file: name a file that holds only the token (it is created when missing)` });
});

t.test('token files with line breaks, empty or missing are refused with clear errors', async (t) => {
  await writeFile(join(dir, 'newline'), 'abc\n');
  t.throws(() => readTokenFile(join(dir, 'newline')), {
    code: 'CONFIG_INVALID',
    message: `the container token file ${join(dir, 'newline')} contains a line break, which SDKs refuse to send in a header: write the token without a newline (printf, not echo)`,
  });
  await writeFile(join(dir, 'empty'), '');
  t.throws(() => readTokenFile(join(dir, 'empty')), { code: 'CONFIG_INVALID', message: `the container token file ${join(dir, 'empty')} is empty: write the token into it` });
  t.throws(() => readTokenFile(join(dir, 'missing')), { code: 'CONFIG_INVALID', message: `cannot read the container token file ${join(dir, 'missing')} (ENOENT): check the path and its permissions` });
  await writeFile(join(dir, 'large'), 'x'.repeat(16 * 1024 + 1));
  t.throws(() => readTokenFile(join(dir, 'large')), { code: 'CONFIG_INVALID', message: `the container token file ${join(dir, 'large')} is larger than 16 KiB: it should hold only the token` });
});

t.test('a missing token file is created with a random token, mode 0600; an existing one is kept', async (t) => {
  const path = join(dir, 'generated');
  t.equal(await createContainerTokenFile(path), 'created');
  const token = await readFile(path, 'utf8');
  t.match(token, /^[A-Za-z0-9_-]{43}$/);
  t.equal((await stat(path)).mode & 0o777, 0o600);
  t.equal(await createContainerTokenFile(path), 'existing');
  t.equal(await readFile(path, 'utf8'), token, 'not overwritten');
  await t.rejects(createContainerTokenFile(join(dir, 'no-such-dir', 'token')), {
    code: 'CONFIG_INVALID',
    message: `cannot create the container token file ${join(dir, 'no-such-dir', 'token')} (ENOENT): check that its directory exists and is writable`,
  });
});
