import { generateKeyPairSync, sign, verify } from 'node:crypto';
import t from 'tap';
import { ecdsaIntegersToDer, rawEcdsaToDer } from '../../src/keys/ecdsa-signature.js';

const bytes = (length: number, first: number, fill: number): number[] => [first, ...new Array<number>(length - 1).fill(fill)];
const hex = (value: Uint8Array): string => Buffer.from(value).toString('hex');

// [what, r, s, DER] - every DER written out by hand from X.690.
const TABLE: ReadonlyArray<readonly [string, number[], number[], number[]]> = [
  ['P-256, plain', bytes(32, 0x11, 0x01), bytes(32, 0x22, 0x02), [0x30, 0x44, 0x02, 0x20, ...bytes(32, 0x11, 0x01), 0x02, 0x20, ...bytes(32, 0x22, 0x02)]],
  ['P-256, r high bit gets a 00', bytes(32, 0x80, 0x01), bytes(32, 0x22, 0x02), [0x30, 0x45, 0x02, 0x21, 0x00, ...bytes(32, 0x80, 0x01), 0x02, 0x20, ...bytes(32, 0x22, 0x02)]],
  ['P-256, s leading zeros stripped', bytes(32, 0x11, 0x01), [0x00, 0x00, ...bytes(30, 0x7f, 0x03)], [0x30, 0x42, 0x02, 0x20, ...bytes(32, 0x11, 0x01), 0x02, 0x1e, ...bytes(30, 0x7f, 0x03)]],
  ['P-256, s leading zero then high bit', bytes(32, 0x11, 0x01), [0x00, ...bytes(31, 0x80, 0x04)], [0x30, 0x44, 0x02, 0x20, ...bytes(32, 0x11, 0x01), 0x02, 0x20, 0x00, ...bytes(31, 0x80, 0x04)]],
  ['P-256, r is zero', new Array<number>(32).fill(0), bytes(32, 0x22, 0x02), [0x30, 0x25, 0x02, 0x01, 0x00, 0x02, 0x20, ...bytes(32, 0x22, 0x02)]],
  ['P-384, both high bit', bytes(48, 0xff, 0x05), bytes(48, 0xc0, 0x06), [0x30, 0x66, 0x02, 0x31, 0x00, ...bytes(48, 0xff, 0x05), 0x02, 0x31, 0x00, ...bytes(48, 0xc0, 0x06)]],
  ['P-521, long-form SEQUENCE length', bytes(66, 0x01, 0xff), bytes(66, 0x01, 0xee), [0x30, 0x81, 0x88, 0x02, 0x42, ...bytes(66, 0x01, 0xff), 0x02, 0x42, ...bytes(66, 0x01, 0xee)]],
];

t.test('rawEcdsaToDer: hand-encoded table', async (t) => {
  for (const [what, r, s, der] of TABLE) {
    const raw = Uint8Array.from([...r, ...s]);
    t.equal(hex(rawEcdsaToDer(raw)), hex(Uint8Array.from(der)), `${what}: raw -> DER`);
  }
});

t.test('ecdsaIntegersToDer takes r and s of different lengths (TPM TPM2B values)', async (t) => {
  const r = Uint8Array.from(bytes(31, 0x90, 0x07));
  const s = Uint8Array.from(bytes(32, 0x10, 0x08));
  t.equal(hex(ecdsaIntegersToDer(r, s)), hex(Uint8Array.from([0x30, 0x44, 0x02, 0x20, 0x00, ...r, 0x02, 0x20, ...s])));
});

t.test('agrees with OpenSSL through node:crypto on real P-256 and P-384 signatures', async (t) => {
  for (const curve of ['P-256', 'P-384'] as const) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    let agreed = 0;
    // 200 signatures reach the high-bit and short-integer cases many times over.
    for (let i = 0; i < 200; i++) {
      const message = Buffer.from(`message ${i}`);
      const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      if (verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, rawEcdsaToDer(raw))) agreed++;
    }
    t.equal(agreed, 200, `${curve}: every converted signature verifies as DER`);
  }
});

t.test('malformed input is refused with the reason', async (t) => {
  const malformed = (detail: string) => ({
    name: 'SignerError',
    code: 'KEY_INVALID',
    message: `ECDSA signature is malformed (${detail}): the key source returned something that is not an ECDSA signature`,
  });
  t.throws(() => rawEcdsaToDer(new Uint8Array(0)), malformed('raw signature has 0 bytes, not two equal halves r||s'));
  t.throws(() => rawEcdsaToDer(new Uint8Array(63)), malformed('raw signature has 63 bytes, not two equal halves r||s'));
  t.throws(() => ecdsaIntegersToDer(new Uint8Array(0), Uint8Array.of(1)), malformed('r or s is empty'));
});
