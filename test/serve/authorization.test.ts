import t from 'tap';
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

t.test('a token file is re-read after rotation, and a briefly missing file keeps the old token', async (t) => {
  const path = join(dir, 'rotating');
  await writeFile(path, 'first');
  let now = 0;
  const check = createAuthorizationCheck(tokenFileDigest({ path, clock: () => new Date(now) }));
  t.equal(check('first'), true);
  await writeFile(path, 'second');
  t.equal(check('second'), false, 'not re-read within a second');
  now += 1000;
  t.equal(check('second'), true, 're-read after a second');
  t.equal(check('first'), false);
  await rm(path);
  now += 1000;
  t.equal(check('second'), true, 'kept while the file is missing');
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
