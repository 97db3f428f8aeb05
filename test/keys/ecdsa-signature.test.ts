import { generateKeyPairSync, sign, verify } from 'node:crypto';
import t from 'tap';
import { derEcdsaToRaw, ecdsaIntegersToDer, rawEcdsaToDer } from '../../src/keys/ecdsa-signature.js';

const bytes = (length: number, first: number, fill: number): number[] => [first, ...new Array<number>(length - 1).fill(fill)];
const hex = (value: Uint8Array): string => Buffer.from(value).toString('hex');

// [what, r, s, size, DER] - every DER written out by hand from X.690.
const TABLE: ReadonlyArray<readonly [string, number[], number[], number, number[]]> = [
  ['P-256, plain', bytes(32, 0x11, 0x01), bytes(32, 0x22, 0x02), 32, [0x30, 0x44, 0x02, 0x20, ...bytes(32, 0x11, 0x01), 0x02, 0x20, ...bytes(32, 0x22, 0x02)]],
  ['P-256, r high bit gets a 00', bytes(32, 0x80, 0x01), bytes(32, 0x22, 0x02), 32, [0x30, 0x45, 0x02, 0x21, 0x00, ...bytes(32, 0x80, 0x01), 0x02, 0x20, ...bytes(32, 0x22, 0x02)]],
  ['P-256, s leading zeros stripped', bytes(32, 0x11, 0x01), [0x00, 0x00, ...bytes(30, 0x7f, 0x03)], 32, [0x30, 0x42, 0x02, 0x20, ...bytes(32, 0x11, 0x01), 0x02, 0x1e, ...bytes(30, 0x7f, 0x03)]],
  ['P-256, s leading zero then high bit', bytes(32, 0x11, 0x01), [0x00, ...bytes(31, 0x80, 0x04)], 32, [0x30, 0x44, 0x02, 0x20, ...bytes(32, 0x11, 0x01), 0x02, 0x20, 0x00, ...bytes(31, 0x80, 0x04)]],
  ['P-256, r is zero', new Array<number>(32).fill(0), bytes(32, 0x22, 0x02), 32, [0x30, 0x25, 0x02, 0x01, 0x00, 0x02, 0x20, ...bytes(32, 0x22, 0x02)]],
  ['P-384, both high bit', bytes(48, 0xff, 0x05), bytes(48, 0xc0, 0x06), 48, [0x30, 0x66, 0x02, 0x31, 0x00, ...bytes(48, 0xff, 0x05), 0x02, 0x31, 0x00, ...bytes(48, 0xc0, 0x06)]],
  ['P-521, long-form SEQUENCE length', bytes(66, 0x01, 0xff), bytes(66, 0x01, 0xee), 66, [0x30, 0x81, 0x88, 0x02, 0x42, ...bytes(66, 0x01, 0xff), 0x02, 0x42, ...bytes(66, 0x01, 0xee)]],
];

t.test('rawEcdsaToDer and derEcdsaToRaw: hand-encoded table, both ways', async (t) => {
  for (const [what, r, s, size, der] of TABLE) {
    const raw = Uint8Array.from([...r, ...s]);
    t.equal(hex(rawEcdsaToDer(raw)), hex(Uint8Array.from(der)), `${what}: raw -> DER`);
    t.equal(hex(derEcdsaToRaw(Uint8Array.from(der), size)), hex(raw), `${what}: DER -> raw`);
  }
});

t.test('ecdsaIntegersToDer takes r and s of different lengths (TPM TPM2B values)', async (t) => {
  const r = Uint8Array.from(bytes(31, 0x90, 0x07));
  const s = Uint8Array.from(bytes(32, 0x10, 0x08));
  t.equal(hex(ecdsaIntegersToDer(r, s)), hex(Uint8Array.from([0x30, 0x44, 0x02, 0x20, 0x00, ...r, 0x02, 0x20, ...s])));
  t.equal(hex(derEcdsaToRaw(ecdsaIntegersToDer(r, s), 32)), hex(Uint8Array.from([0x00, ...r, ...s])), 'short r is left-padded');
});

t.test('agrees with OpenSSL through node:crypto on real P-256 and P-384 signatures', async (t) => {
  for (const [curve, size] of [['P-256', 32], ['P-384', 48]] as const) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    let agreed = 0;
    // 200 signatures reach the high-bit and short-integer cases many times over.
    for (let i = 0; i < 200; i++) {
      const message = Buffer.from(`message ${i}`);
      const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
      const ok =
        verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, rawEcdsaToDer(raw)) &&
        verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, derEcdsaToRaw(der, size)) &&
        hex(derEcdsaToRaw(rawEcdsaToDer(raw), size)) === hex(raw);
      if (ok) agreed++;
    }
    t.equal(agreed, 200, `${curve}: every conversion verifies and round-trips`);
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

  const int = (...content: number[]): number[] => [0x02, content.length, ...content];
  const seq = (...content: number[]): Uint8Array => Uint8Array.from([0x30, content.length, ...content]);
  const table: ReadonlyArray<readonly [Uint8Array, number, string]> = [
    [new Uint8Array(0), 32, 'DER signature is not exactly one SEQUENCE'],
    [Uint8Array.from([0x31, 0x06, ...int(1), ...int(1)]), 32, 'DER signature is not exactly one SEQUENCE'],
    [Uint8Array.from([...seq(...int(1), ...int(1)), 0x00]), 32, 'DER signature is not exactly one SEQUENCE'],
    [Uint8Array.from([0x30, 0x80, ...int(1), ...int(1), 0x00, 0x00]), 32, 'DER signature is not exactly one SEQUENCE'],
    [seq(0x04, 0x01, 0x01, ...int(1)), 32, 'DER signature has no INTEGER r'],
    [seq(...int(1)), 32, 'DER signature has no INTEGER s'],
    [seq(...int(1), ...int(1), ...int(1)), 32, 'DER signature has bytes after s'],
    [seq(0x02, 0x00, ...int(1)), 32, 'DER signature has an empty INTEGER r'],
    [seq(...int(0x81), ...int(1)), 32, 'DER signature has a negative r'],
    [seq(...int(1), ...int(0x00, 0x7f)), 32, 'DER signature has a non-minimal INTEGER s'],
    [seq(...int(...bytes(33, 0x01, 0x01)), ...int(1)), 32, "DER signature's r is 33 bytes, more than the 32 of the curve"],
  ];
  for (const [der, size, detail] of table) t.throws(() => derEcdsaToRaw(der, size), malformed(detail), detail);
  t.throws(() => derEcdsaToRaw(seq(...int(1), ...int(1)), 0), {
    code: 'INTERNAL',
    message: 'ECDSA coordinate size 0 is not a positive whole number of bytes',
  });
});
