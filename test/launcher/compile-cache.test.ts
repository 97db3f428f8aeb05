import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheLocation, decodeCodeCache, encodeCodeCache, readCodeCache, writeCodeCache } from '../../src/launcher/compile-cache.js';

const NODE = { version: 'v20.20.2', arch: 'x64' };
const BUILD = '0123456789abcdef01234567';
const uid = process.getuid?.();

/** encodeCodeCache's bytes; here WebAssembly is there, so it always makes them. */
function encoded(entries: ReadonlyMap<string, Uint8Array>): Buffer {
  const bytes = encodeCodeCache(entries);
  if (bytes === undefined) throw new Error('encodeCodeCache made nothing: no WebAssembly in this Node?');
  return bytes;
}

t.test('the cache lives under XDG_CACHE_HOME, else ~/.cache, named by build, Node and architecture', async (t) => {
  t.same(cacheLocation({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }, BUILD, NODE), {
    dir: '/x/cache/roles-anywhere-signer/compile-cache',
    file: `/x/cache/roles-anywhere-signer/compile-cache/${BUILD}-cc4-nodev20.20.2-x64.bin`,
  });
  t.equal(cacheLocation({ HOME: '/home/u' }, BUILD, NODE)?.dir, '/home/u/.cache/roles-anywhere-signer/compile-cache');
  t.equal(cacheLocation({ HOME: '/home/u', XDG_CACHE_HOME: '' }, BUILD, NODE)?.dir, '/home/u/.cache/roles-anywhere-signer/compile-cache', 'an empty XDG_CACHE_HOME is unset');
  t.equal(cacheLocation({}, BUILD, NODE), undefined, 'no home: no cache');
  for (const off of ['0', 'off', 'FALSE', 'no', ' 0 ']) {
    t.equal(cacheLocation({ HOME: '/home/u', ROLES_ANYWHERE_SIGNER_COMPILE_CACHE: off }, BUILD, NODE), undefined, `ROLES_ANYWHERE_SIGNER_COMPILE_CACHE=${off} turns it off`);
  }
  t.not(cacheLocation({ HOME: '/home/u', ROLES_ANYWHERE_SIGNER_COMPILE_CACHE: '1' }, BUILD, NODE), undefined, 'any other value leaves it on');
  t.equal(cacheLocation({ HOME: '/home/u' }, '../../etc', NODE), undefined, 'a build id that is not hex never becomes a path');
  const plain = cacheLocation({ HOME: '/h' }, BUILD, { ...NODE, options: '' })?.file;
  const flagged = cacheLocation({ HOME: '/h' }, BUILD, { ...NODE, options: '--max-old-space-size=4096' })?.file;
  const other = cacheLocation({ HOME: '/h' }, BUILD, { ...NODE, options: '--max-old-space-size=8192' })?.file;
  t.equal(plain, `/h/.cache/roles-anywhere-signer/compile-cache/${BUILD}-cc4-nodev20.20.2-x64.bin`, 'no Node options: the plain name');
  t.match(flagged, /-x64-o[0-9a-f]{8}\.bin$/, 'Node options get their own file (V8 refuses a cache made under other flags)');
  t.not(flagged, other, 'and different options different files');
  t.equal(cacheLocation({ HOME: '/h' }, BUILD, { version: 'v20/../x', arch: 'x64' })?.file, `/h/.cache/roles-anywhere-signer/compile-cache/${BUILD}-cc4-nodev20..x-x64.bin`, 'no separators from the version');
});

t.test('encode and decode are inverses; anything malformed decodes to an empty cache', async (t) => {
  const entries = new Map<string, Uint8Array>([
    ['main-ABC.cjs', new Uint8Array([1, 2, 3])],
    ['chunk-X.cjs', new Uint8Array(0)],
    ['file-Y.cjs', Buffer.alloc(70_000, 7)],
  ]);
  const bytes = encoded(entries);
  const decoded = decodeCodeCache(bytes);
  t.same([...decoded.stored.keys()].sort(), [...entries.keys()].sort());
  for (const [name, data] of entries) t.same(Buffer.from(decoded.get(name) ?? [9]), Buffer.from(data), name);
  t.equal(decoded.get('missing.cjs'), undefined);
  t.equal(decodeCodeCache(Buffer.alloc(0)).stored.size, 0, 'empty file');
  t.equal(decodeCodeCache(Buffer.from('not a cache at all')).stored.size, 0, 'wrong magic');
  t.equal(decodeCodeCache(bytes.subarray(0, bytes.length - 1)).stored.size, 0, 'truncated data');
  t.equal(decodeCodeCache(bytes.subarray(0, 14)).stored.size, 0, 'truncated index');
  t.equal(decodeCodeCache(Buffer.concat([bytes, Buffer.from([0])])).stored.size, 0, 'trailing bytes');
  const lying = Buffer.from(bytes);
  lying.writeUInt32LE(1000, 8);
  t.equal(decodeCodeCache(lying).stored.size, 0, 'a count larger than the entries');
});

t.test('an entry whose bytes changed is never handed out; the others still are', async (t) => {
  const entries = new Map<string, Uint8Array>([
    ['a.cjs', Buffer.alloc(100, 1)],
    ['b.cjs', Buffer.alloc(100, 2)],
  ]);
  const bytes = encoded(entries);
  // The file is sorted by name: b.cjs's data is the last 100 bytes.
  bytes[bytes.length - 50] = 0xff;
  const decoded = decodeCodeCache(bytes);
  t.equal(decoded.get('b.cjs'), undefined, 'one byte flipped: the checksum catches it');
  t.same(Buffer.from(decoded.get('a.cjs') ?? []), Buffer.alloc(100, 1), 'the intact entry is still used');
  t.equal(decoded.stored.size, 2, 'both stay stored until a run replaces them');
});

t.test('written privately and read back; refused when someone else could have written it', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ras-cc-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const location = cacheLocation({ XDG_CACHE_HOME: base }, BUILD, NODE);
  if (location === undefined) throw new Error('no location');
  const entries = new Map([['main-A.cjs', new Uint8Array([9, 9, 9])]]);
  t.same(readCodeCache(location, uid).stored.size, 0, 'nothing there yet: an empty cache, no error');
  t.ok(writeCodeCache(location, entries, uid), 'written');
  t.equal(statSync(location.file).mode & 0o777, 0o600, 'the file is 0600');
  t.equal(statSync(location.dir).mode & 0o777, 0o700, 'the directory is 0700');
  t.same(Buffer.from(readCodeCache(location, uid).get('main-A.cjs') ?? []), Buffer.from([9, 9, 9]), 'read back');
  if (uid !== undefined) t.equal(readCodeCache(location, uid + 1).stored.size, 0, 'a file another user owns is not used');

  chmodSync(location.file, 0o666);
  t.equal(readCodeCache(location, uid).stored.size, 0, 'a file others can write is not used');
  chmodSync(location.file, 0o600);
  chmodSync(location.dir, 0o777);
  t.equal(readCodeCache(location, uid).stored.size, 0, 'a file in a directory others can write is not used');
  t.notOk(writeCodeCache(location, entries, uid), 'and none is written there');
  chmodSync(location.dir, 0o700);
  t.equal(readCodeCache(location, uid).stored.size, 1, 'private again: used again');

  writeFileSync(location.file, 'garbage', { mode: 0o600 });
  t.equal(readCodeCache(location, uid).stored.size, 0, 'a damaged file is an empty cache');
});

t.test('a write that cannot happen leaves nothing behind and says so', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ras-cc-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const blocker = join(base, 'not-a-directory');
  writeFileSync(blocker, '');
  const location = cacheLocation({ XDG_CACHE_HOME: blocker }, BUILD, NODE);
  if (location === undefined) throw new Error('no location');
  t.notOk(writeCodeCache(location, new Map([['a.cjs', new Uint8Array([1])]]), uid), 'false, no throw');
  t.equal(readFileSync(blocker, 'utf8'), '', 'the file in the way is untouched');
});

t.test('caches of other builds unused for a month are removed when a new one is written', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ras-cc-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const location = cacheLocation({ XDG_CACHE_HOME: base }, BUILD, NODE);
  if (location === undefined) throw new Error('no location');
  mkdirSync(location.dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  const old = join(location.dir, `ffffffffffffffffffffffff-nodev20.20.2-x64.bin`);
  const recent = join(location.dir, `eeeeeeeeeeeeeeeeeeeeeeee-nodev20.20.2-x64.bin`);
  const unrelated = join(location.dir, 'notes.txt');
  for (const file of [old, recent, unrelated]) writeFileSync(file, 'x');
  const fortyDaysAgo = (now - 40 * 24 * 3600 * 1000) / 1000;
  utimesSync(old, fortyDaysAgo, fortyDaysAgo);
  utimesSync(unrelated, fortyDaysAgo, fortyDaysAgo);
  t.ok(writeCodeCache(location, new Map(), uid, now));
  t.notOk(existsSync(old), 'the month-old cache of another build is gone');
  t.ok(existsSync(recent), 'a recent one (another installed version in use) stays');
  t.ok(existsSync(unrelated), 'files that are not caches are left alone');
});
