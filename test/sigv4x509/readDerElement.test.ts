import t from 'tap';
import { readDerElement } from '../../src/sigv4x509/readDerElement.js';

t.test('short and long definite lengths', async (t) => {
  t.strictSame(readDerElement(Uint8Array.of(0x02, 0x01, 0x05), 0), { tag: 0x02, contentStart: 2, end: 3 });
  const long = new Uint8Array(3 + 0x80);
  long.set([0x04, 0x81, 0x80]);
  t.strictSame(readDerElement(long, 0), { tag: 0x04, contentStart: 3, end: 3 + 0x80 });
  const twoByte = new Uint8Array(4 + 0x0100);
  twoByte.set([0x30, 0x82, 0x01, 0x00]);
  t.strictSame(readDerElement(twoByte, 0), { tag: 0x30, contentStart: 4, end: 4 + 0x100 });
  t.strictSame(readDerElement(Uint8Array.of(0xff, 0x02, 0x01, 0x00), 1), { tag: 0x02, contentStart: 3, end: 4 }, 'at an offset');
});

t.test('anything not strict DER is undefined', async (t) => {
  const table: ReadonlyArray<readonly [string, Uint8Array, number?]> = [
    ['empty', new Uint8Array(0)],
    ['tag only', Uint8Array.of(0x02)],
    ['contents past the end', Uint8Array.of(0x02, 0x02, 0x01)],
    ['contents past the limit', Uint8Array.of(0x02, 0x01, 0x01), 2],
    ['indefinite length', Uint8Array.of(0x30, 0x80, 0x00, 0x00)],
    ['long form for a short length', Uint8Array.of(0x02, 0x81, 0x01, 0x00)],
    ['long form with a leading zero', Uint8Array.of(0x02, 0x82, 0x00, 0x81, ...new Array<number>(0x81).fill(0))],
    ['four length bytes', Uint8Array.of(0x02, 0x84, 0x01, 0x00, 0x00, 0x00)],
    ['truncated length bytes', Uint8Array.of(0x02, 0x82, 0x01)],
    ['high tag number form', Uint8Array.of(0x1f, 0x01, 0x00)],
  ];
  for (const [what, bytes, limit] of table) t.equal(readDerElement(bytes, 0, limit), undefined, what);
});
