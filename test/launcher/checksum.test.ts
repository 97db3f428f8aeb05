import t from 'tap';
import { randomBytes } from 'node:crypto';
import { checksum64 } from '../../src/launcher/checksum.js';

const OFFSET_BASIS = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** The same function in JavaScript: FNV-1a 64 over little-endian 64-bit words, then the last bytes one by one. */
function reference(data: Uint8Array): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let hash = OFFSET_BASIS;
  let i = 0;
  for (; i + 8 <= data.length; i += 8) hash = ((hash ^ view.getBigUint64(i, true)) * PRIME) & MASK;
  for (; i < data.length; i++) hash = ((hash ^ BigInt(data[i] as number)) * PRIME) & MASK;
  return hash;
}

t.test('published FNV-1a 64 values for inputs shorter than a word (hashed byte by byte)', async (t) => {
  t.equal(checksum64(new Uint8Array(0)), 0xcbf29ce484222325n, 'empty: the offset basis');
  t.equal(checksum64(Buffer.from('a')), 0xaf63dc4c8601ec8cn, '"a"');
  t.equal(checksum64(Buffer.from('foobar')), 0x85944171f73967e8n, '"foobar"');
});

t.test('the WebAssembly function equals the JavaScript one on random data of every tail length', async (t) => {
  for (const length of [1, 7, 8, 9, 15, 16, 17, 1000, 65_535, 65_536, 65_537, 300_001]) {
    const data = randomBytes(length);
    t.equal(checksum64(data), reference(data), `${length} bytes`);
  }
  const big = randomBytes(200_000);
  t.equal(checksum64(big.subarray(3, 150_003)), reference(big.subarray(3, 150_003)), 'a view at an odd offset of a larger buffer');
  t.equal(checksum64(Buffer.alloc(10)), reference(Buffer.alloc(10)), 'after a larger input, memory left over from it does not leak into a smaller one');
});

t.test('any single flipped bit changes the checksum', async (t) => {
  const data = randomBytes(4099);
  const original = checksum64(data);
  let unchanged = 0;
  for (let bit = 0; bit < data.length * 8; bit += 97) {
    const copy = Buffer.from(data);
    copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
    if (checksum64(copy) === original) unchanged++;
  }
  t.equal(unchanged, 0);
});
