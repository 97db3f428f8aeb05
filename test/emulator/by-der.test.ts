import t from 'tap';
import { memoizedByDer } from '../../src/emulator/by-der.js';

t.test('one parse per distinct content, whatever buffer it comes in', async (t) => {
  let parses = 0;
  const parse = memoizedByDer((der) => {
    parses++;
    return { first: der[0] };
  });
  const a = parse(Uint8Array.from([1, 2, 3]));
  const b = parse(Buffer.from([1, 2, 3]));
  const view = new Uint8Array(Uint8Array.from([9, 1, 2, 3]).buffer, 1, 3);
  const c = parse(view);
  t.equal(parses, 1, 'the same bytes in three buffers: parsed once');
  t.equal(a, b);
  t.equal(a, c, 'a view into a larger buffer is keyed by its own bytes only');
  t.not(parse(Uint8Array.from([1, 2, 4])), a, 'other bytes: another parse');
  t.equal(parses, 2);
});

t.test('a parse that throws is not remembered; the cache is bounded', async (t) => {
  let calls = 0;
  const parse = memoizedByDer((der) => {
    calls++;
    if (der[0] === 0) throw new Error('not a certificate');
    return der[0];
  }, 2);
  t.throws(() => parse(Uint8Array.from([0])));
  t.throws(() => parse(Uint8Array.from([0])), 'throws again');
  t.equal(calls, 2, 'and was tried again');
  parse(Uint8Array.from([1]));
  parse(Uint8Array.from([2]));
  parse(Uint8Array.from([3]));
  calls = 0;
  parse(Uint8Array.from([1]));
  t.equal(calls, 1, 'full at two entries: emptied, so [1] is parsed again');
});
