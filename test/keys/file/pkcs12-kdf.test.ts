import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { bmpPassword, pkcs12Kdf, PKCS12_KDF_PURPOSE, type Pkcs12KdfHash } from '../../../src/keys/file/pkcs12-kdf.js';

/** OpenSSL 3's own PKCS12KDF, an independent implementation to compare against. */
function opensslKdf(hash: Pkcs12KdfHash, password: Uint8Array, salt: Uint8Array, iterations: number, id: number, length: number): string {
  const out = execFileSync('openssl', ['kdf', '-keylen', String(length), '-kdfopt', `digest:${hash.toUpperCase()}`,
    '-kdfopt', `hexpass:${Buffer.from(password).toString('hex')}`, '-kdfopt', `hexsalt:${Buffer.from(salt).toString('hex')}`,
    '-kdfopt', `iter:${iterations}`, '-kdfopt', `id:${id}`, 'PKCS12KDF']).toString();
  return out.trim().replace(/:/g, '').toLowerCase();
}

t.test('the published vector (password "smeg", RFC 7292 test data used by OpenSSL and Bouncy Castle)', async (t) => {
  const key = pkcs12Kdf('sha1', bmpPassword(Buffer.from('smeg')), Buffer.from('0a58cf64530d823f', 'hex'), 1, PKCS12_KDF_PURPOSE.KEY, 24);
  t.equal(key.toString('hex'), '8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
});

t.test('agrees with openssl kdf PKCS12KDF', async (t) => {
  const cases: Array<[Pkcs12KdfHash, Uint8Array, Uint8Array, number, number, number]> = [
    ['sha1', bmpPassword(Buffer.from('correct horse')), randomBytes(8), 2048, PKCS12_KDF_PURPOSE.KEY, 24],
    ['sha1', bmpPassword(Buffer.from('correct horse')), randomBytes(8), 2048, PKCS12_KDF_PURPOSE.IV, 8],
    ['sha256', bmpPassword(Buffer.from('pässwörd ✓')), randomBytes(16), 1000, PKCS12_KDF_PURPOSE.MAC, 32],
    ['sha384', bmpPassword(Buffer.from('x')), randomBytes(20), 3, PKCS12_KDF_PURPOSE.MAC, 48],
    ['sha512', bmpPassword(Buffer.alloc(100, 0x61)), randomBytes(70), 5, PKCS12_KDF_PURPOSE.MAC, 100],
    ['sha224', bmpPassword(Buffer.alloc(0)), randomBytes(8), 2, PKCS12_KDF_PURPOSE.KEY, 28],
    ['sha1', new Uint8Array(0), randomBytes(8), 1, PKCS12_KDF_PURPOSE.MAC, 20],
  ];
  for (const [hash, password, salt, iterations, id, length] of cases) {
    t.equal(pkcs12Kdf(hash, password, salt, iterations, id, length).toString('hex'), opensslKdf(hash, password, salt, iterations, id, length),
      `${hash}, ${password.length}-byte password, ${salt.length}-byte salt, ${iterations} iterations, id ${id}, ${length} bytes`);
  }
});

t.test('bmpPassword: UTF-16BE with a two-byte terminator, from UTF-8 bytes', async (t) => {
  t.equal(bmpPassword(Buffer.from('ab')).toString('hex'), '006100620000');
  t.equal(bmpPassword(Buffer.alloc(0)).toString('hex'), '0000', 'the empty password is the terminator alone');
  t.equal(bmpPassword(Buffer.from('é✓')).toString('hex'), '00e927130000', 'two- and three-byte sequences');
  t.equal(bmpPassword(Buffer.from('𝄞')).toString('hex'), 'd834dd1e0000', 'outside the BMP: a surrogate pair');
  t.equal(bmpPassword(Buffer.from([0x61, 0xff, 0x62])).toString('hex'), '006100ff00620000', 'invalid UTF-8: one character per byte, as OpenSSL does');
  t.equal(bmpPassword(Buffer.from([0xc3])).toString('hex'), '00c30000', 'a cut-off sequence is invalid UTF-8 too');
  t.equal(bmpPassword(Buffer.from([0xc0, 0x80])).toString('hex'), '00c000800000', 'overlong encodings are invalid');
  t.equal(bmpPassword(Buffer.from([0xed, 0xa0, 0x80])).toString('hex'), '00ed00a000800000', 'encoded surrogates are invalid');
});
