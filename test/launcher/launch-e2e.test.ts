/**
 * The installed command (dist/cli/roles-anywhere-signer.cjs) and its code cache, run as a user
 * would: the first run leaves a cache, the next ones use it without rewriting it, and nothing
 * about the cache (missing, damaged, unwritable, turned off) changes what the CLI prints.
 */
import t from 'tap';
import { createPrivateKey } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { decodeCodeCache } from '../../src/launcher/compile-cache.js';
import { packageVersion } from '../../src/version.js';

let rig: Rig;
let scratch: string;
t.before(async () => {
  rig = await startRig();
  scratch = await mkdtemp(join(tmpdir(), 'ras-launch-'));
});
t.teardown(async () => {
  await rig.close();
  await rm(scratch, { recursive: true, force: true });
});

let homes = 0;
async function freshCacheHome(): Promise<string> {
  const home = join(scratch, `cache-${++homes}`);
  await mkdir(home);
  return home;
}

/** The one cache file under a cache home (there is one per build and Node version). */
async function cacheFile(home: string): Promise<string | undefined> {
  const dir = join(home, 'roles-anywhere-signer', 'compile-cache');
  const names = await readdir(dir).catch(() => [] as string[]);
  const bins = names.filter((name) => name.endsWith('.bin'));
  return bins.length === 1 ? join(dir, bins[0] as string) : undefined;
}

t.test('the first run writes a private cache; the next run uses it and leaves it as it is', async (t) => {
  const home = await freshCacheHome();
  const env = isolatedEnv({ XDG_CACHE_HOME: home });
  const first = await runCli(['version'], { env });
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stdout, `${packageVersion()}\n`);
  t.equal(first.stderr, '', 'nothing on stderr about the cache');
  const file = await cacheFile(home);
  if (file === undefined) throw new Error('no cache file after the first run');
  t.match(file, new RegExp(`[0-9a-f]{24}-cc4-node${process.version}-${process.arch}(-o[0-9a-f]{8})?\\.bin$`), 'named by build, cache format, Node version, architecture (and Node options, which tap sets)');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'the cache file is 0600');
  t.equal((await stat(join(home, 'roles-anywhere-signer', 'compile-cache'))).mode & 0o777, 0o700, 'its directory is 0700');
  const entries = decodeCodeCache(await readFile(file));
  t.ok(entries.stored.size >= 2, `it holds the chunks the run loaded (${entries.stored.size})`);

  const before = await stat(file);
  const second = await runCli(['version'], { env });
  t.equal(second.stdout, first.stdout, 'same output from the cache');
  const after = await stat(file);
  t.equal(after.ino, before.ino, 'not rewritten: V8 accepted every chunk from the cache');
  t.equal(after.mtimeMs, before.mtimeMs);

  const id = await rig.issueFileIdentity('launch-cache');
  const credentials = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags], { env });
  t.equal(credentials.code, 0, credentials.stderr);
  t.match(JSON.parse(credentials.stdout), { Version: 1, AccessKeyId: String });
  const grown = decodeCodeCache(await readFile(file));
  t.ok(grown.stored.size > entries.stored.size, `a command with more chunks adds them (${entries.stored.size} -> ${grown.stored.size})`);
  for (const name of entries.stored.keys()) t.ok(grown.stored.has(name), `${name} is still there`);
});

t.test('callers with different Node options keep a cache each instead of overwriting one', async (t) => {
  const home = await freshCacheHome();
  const dir = join(home, 'roles-anywhere-signer', 'compile-cache');
  const plain = isolatedEnv({ XDG_CACHE_HOME: home, NODE_OPTIONS: undefined });
  const flagged = isolatedEnv({ XDG_CACHE_HOME: home, NODE_OPTIONS: '--max-old-space-size=3000' });
  await runCli(['version'], { env: plain });
  await runCli(['version'], { env: flagged });
  const names = (await readdir(dir)).filter((name) => name.endsWith('.bin')).sort();
  t.equal(names.length, 2, `two files: ${names.join(', ')}`);
  // (tap adds its own NODE_OPTIONS to every child, so neither name is the plain one here.)
  const before = await Promise.all(names.map((name) => stat(join(dir, name))));
  await runCli(['version'], { env: plain });
  await runCli(['version'], { env: flagged });
  const after = await Promise.all(names.map((name) => stat(join(dir, name))));
  t.same(after.map((entry) => entry.ino), before.map((entry) => entry.ino), 'alternating callers rewrite neither');
});

t.test('the cache holds compiled code only: no password, key or credentials of the run that wrote it', async (t) => {
  const home = await freshCacheHome();
  const password = 'pw-S3CRET-launch-cache-7731';
  const id = await rig.issueFileIdentity('launch-secrets');
  const key = createPrivateKey(await readFile(id.keyPath));
  const encryptedKey = join(scratch, 'encrypted.key.pem');
  await writeFile(encryptedKey, key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password }));
  const run = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', encryptedKey, '--intermediates', id.chainPath, ...rig.sessionFlags], {
    env: isolatedEnv({ XDG_CACHE_HOME: home, ROLES_ANYWHERE_PKCS8_PASSWORD: password }),
  });
  t.equal(run.code, 0, run.stderr);
  const output = JSON.parse(run.stdout) as { SecretAccessKey: string; SessionToken: string };
  const file = await cacheFile(home);
  if (file === undefined) throw new Error('no cache file');
  const cache = await readFile(file);
  t.ok(decodeCodeCache(cache).stored.size > 10, 'the run wrote its chunks');
  t.not(cache.indexOf(Buffer.from('AWS4-X509-ECDSA-SHA256', 'utf8')), -1, 'a string constant of the code is found: the search below would see a secret stored the same way');
  const privateScalar = (key.export({ format: 'jwk' }) as { d: string }).d;
  for (const [what, secret] of [
    ['the key password', password],
    ['the secret access key', output.SecretAccessKey],
    ['the session token', output.SessionToken.slice(0, 40)],
    ['the private key (JWK d)', privateScalar],
  ] as const) {
    t.equal(cache.indexOf(Buffer.from(secret, 'utf8')), -1, `${what} is not in the cache (UTF-8)`);
    t.equal(cache.indexOf(Buffer.from(secret, 'utf16le')), -1, `${what} is not in the cache (UTF-16)`);
  }
  t.equal(cache.indexOf(Buffer.from(privateScalar, 'base64url')), -1, 'nor the private scalar as bytes');
});

t.test('a damaged cache is replaced, and the run does not notice', async (t) => {
  const home = await freshCacheHome();
  const env = isolatedEnv({ XDG_CACHE_HOME: home });
  await runCli(['version'], { env });
  const file = await cacheFile(home);
  if (file === undefined) throw new Error('no cache file');
  const good = await readFile(file);
  // Same length, different bytes: only the format's own checks and V8's stand in the way.
  await writeFile(file, Buffer.alloc(good.length, 0x41), { mode: 0o600 });
  const run = await runCli(['version'], { env });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, `${packageVersion()}\n`);
  t.equal(run.stderr, '');
  t.ok(decodeCodeCache(await readFile(file)).stored.size >= 2, 'rewritten whole');

  // Bytes flipped inside the entries: V8 itself checks no checksum and crashed on these before
  // each entry carried a digest; the digest keeps them from V8.
  const tampered = Buffer.from(good);
  for (let i = 64; i < tampered.length; i += 97) tampered[i] = (tampered[i] ?? 0) ^ 0xff;
  await writeFile(file, tampered, { mode: 0o600 });
  const again = await runCli(['--help'], { env });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /credential-process/);
  t.ok(decodeCodeCache(await readFile(file)).stored.size >= 2, 'replaced by a good one');
});

t.test('no cache at all: turned off, no home, or nowhere to write; the CLI works the same', async (t) => {
  const home = await freshCacheHome();
  const off = await runCli(['version'], { env: isolatedEnv({ XDG_CACHE_HOME: home, ROLES_ANYWHERE_SIGNER_COMPILE_CACHE: '0' }) });
  t.equal(off.stdout, `${packageVersion()}\n`);
  t.same(await readdir(home), [], 'ROLES_ANYWHERE_SIGNER_COMPILE_CACHE=0: nothing written');

  const homeless = await runCli(['version'], { env: isolatedEnv({ XDG_CACHE_HOME: undefined, HOME: undefined }) });
  t.equal(homeless.code, 0, homeless.stderr);
  t.equal(homeless.stdout, `${packageVersion()}\n`, 'no HOME and no XDG_CACHE_HOME');

  const blocker = join(scratch, 'a-file');
  await writeFile(blocker, 'in the way');
  const blocked = await runCli(['version'], { env: isolatedEnv({ XDG_CACHE_HOME: blocker }) });
  t.equal(blocked.code, 0, blocked.stderr);
  t.equal(blocked.stderr, '', 'no complaint when the cache cannot be written');
  t.equal(await readFile(blocker, 'utf8'), 'in the way');

  const shared = await freshCacheHome();
  await mkdir(join(shared, 'roles-anywhere-signer', 'compile-cache'), { recursive: true });
  await chmod(join(shared, 'roles-anywhere-signer', 'compile-cache'), 0o777);
  const open = await runCli(['version'], { env: isolatedEnv({ XDG_CACHE_HOME: shared }) });
  t.equal(open.code, 0, open.stderr);
  t.equal(await cacheFile(shared), undefined, 'a cache directory others can write to is not filled');
});

t.test('the server commands run without the cache: neither read nor written', async (t) => {
  const home = await freshCacheHome();
  const env = isolatedEnv({ XDG_CACHE_HOME: home });
  // emulate --init is the one form of a server command that ends by itself.
  const init = await runCli(['emulate', '--init', join(home, 'emulator')], { env });
  t.equal(init.code, 0, init.stderr);
  t.equal(await cacheFile(home), undefined, 'emulate wrote no cache');
  const version = await runCli(['version'], { env });
  t.equal(version.code, 0, version.stderr);
  t.not(await cacheFile(home), undefined, 'a one-shot command in the same home does (the check above could fail)');
});
