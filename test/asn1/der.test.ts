import t from 'tap';
import { SignerError } from '../../src/errors.js';
import {
  DER_TAG,
  decodeDerBoolean,
  decodeDerOid,
  decodeDerSmallInteger,
  expectDerConstructed,
  readDerChildren,
  readDerElement,
  readStrictDerElement,
  readWholeDerElement,
  type DerProblem,
} from '../../src/asn1/der.js';

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/\s/g, ''), 'hex'));
const hexOf = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : Buffer.from(value).toString('hex'));

function errorOf(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
  } catch (error) {
    return { code: (error as SignerError).code, message: (error as Error).message };
  }
  return undefined;
}

const malformed = (detail: string) => ({ code: 'INTERNAL', message: `malformed DER: ${detail}` });

/** A failure that hands the problem back, to check what a caller's own wording gets to quote. */
const problemOf = (fn: (fail: (problem: DerProblem) => SignerError) => unknown): DerProblem | undefined => {
  let seen: DerProblem | undefined;
  try {
    fn((problem) => {
      seen = problem;
      return new SignerError('TPM_KEYFILE_INVALID', 'worded by the caller');
    });
  } catch (error) {
    if ((error as Error).message !== 'worded by the caller') throw error;
  }
  return seen;
};

t.test('elements, children and values', async (t) => {
  const sequence = readWholeDerElement(bytes('30 0c 06 0a 2a864886f70d010c0103'));
  t.equal(sequence.tag, DER_TAG.SEQUENCE);
  const [oid] = readDerChildren(sequence);
  t.equal(decodeDerOid(oid, 'oid'), '1.2.840.113549.1.12.1.3');
  t.equal(decodeDerOid(readDerElement(bytes('06 03 550403')), 'oid'), '2.5.4.3');
  t.equal(decodeDerOid(readDerElement(bytes('06 0a 0992268993f22c640119')), 'oid'), '0.9.2342.19200300.100.1.25');
  t.equal(decodeDerOid(readDerElement(bytes('06 06 6781050a0103')), 'oid'), '2.23.133.10.1.3', 'first subidentifier of 80 or more: arc 2');
  t.equal(decodeDerSmallInteger(readDerElement(bytes('02 02 0800')), 'n'), 2048);
  t.equal(decodeDerSmallInteger(readDerElement(bytes('02 03 00 ff ff')), 'n'), 65535);
  const long = readDerElement(bytes(`04 81 80 ${'ab'.repeat(128)}`));
  t.equal(long.value.length, 128, 'long-form length');
  t.equal(long.encoded.length, 131);
  const atOffset = readDerElement(bytes('ff 02 01 00'), 1);
  t.same([atOffset.tag, hexOf(atOffset.value), hexOf(atOffset.encoded)], [DER_TAG.INTEGER, '00', '020100'], 'at an offset');
  t.equal(hexOf(readDerElement(bytes('02 81 01 05')).value), '05', 'a long form DER would not use is still read');
});

t.test('malformed input throws, with what was wrong', async (t) => {
  t.same(errorOf(() => readDerElement(bytes('30 80 00 00'))), malformed('indefinite length (BER, not DER)'));
  t.same(errorOf(() => readDerElement(bytes('30 05 00'))), malformed('element runs past the end of the data'));
  t.same(errorOf(() => readWholeDerElement(bytes('05 00 00'))), malformed('trailing bytes after the element'));
  t.same(errorOf(() => readDerElement(bytes('1f 01 00'))), malformed('multi-byte tag'));
  t.same(errorOf(() => readDerElement(bytes('30 85 0000000001'))), malformed('length too large'));
  t.same(errorOf(() => readDerElement(bytes('30 82 01'))), malformed('truncated length'));
  t.same(errorOf(() => readDerElement(new Uint8Array(0))), malformed('no element where one was expected'));
  t.same(errorOf(() => readDerElement(bytes('30'))), malformed('missing length'));
  t.same(errorOf(() => readDerElement(bytes('1f'))), malformed('missing length'), 'a header is two bytes: checked before the tag');
  t.same(errorOf(() => readDerChildren(readDerElement(bytes('04 01 00')))), malformed('tag 0x4 is not constructed'));
  t.same(errorOf(() => expectDerConstructed(readDerElement(bytes('30 03 02 01 00')), DER_TAG.SEQUENCE, 2, 'params')), malformed('params has 1 fields, expected at least 2'));
  t.same(errorOf(() => decodeDerSmallInteger(readDerElement(bytes('02 01 80')), 'count')), malformed('count is negative'));
  t.same(errorOf(() => decodeDerSmallInteger(readDerElement(bytes('04 01 01')), 'count')), malformed('count is missing or has the wrong type'));
  t.same(errorOf(() => decodeDerSmallInteger(undefined, 'count')), malformed('count is missing or has the wrong type'));
  t.same(errorOf(() => decodeDerSmallInteger(readDerElement(bytes('02 00')), 'count')), malformed('count is an empty INTEGER'));
  t.same(errorOf(() => decodeDerSmallInteger(readDerElement(bytes('02 07 20000000000000')), 'count')), malformed('count is too large'));
  t.same(errorOf(() => decodeDerOid(readDerElement(bytes('06 01 81')), 'algorithm')), malformed('algorithm ends inside an OID arc'));
  t.same(errorOf(() => decodeDerOid(readDerElement(bytes('06 00')), 'algorithm')), malformed('algorithm is an empty OID'));
  t.same(errorOf(() => decodeDerOid(readDerElement(bytes('06 09 ffffffffffffffff7f')), 'algorithm')), malformed('algorithm has an OID arc too large'));
});

t.test('strict reader: short and long definite lengths', async (t) => {
  const short = readStrictDerElement(bytes('02 01 05'));
  t.same([short?.tag, hexOf(short?.value), hexOf(short?.encoded)], [DER_TAG.INTEGER, '05', '020105']);
  const long = readStrictDerElement(bytes(`04 81 80 ${'00'.repeat(0x80)}`));
  t.same([long?.tag, long?.value.length, long?.encoded.length], [DER_TAG.OCTET_STRING, 0x80, 3 + 0x80]);
  const twoByte = readStrictDerElement(bytes(`30 82 0100 ${'00'.repeat(0x100)}`));
  t.same([twoByte?.tag, twoByte?.value.length, twoByte?.encoded.length], [DER_TAG.SEQUENCE, 0x100, 4 + 0x100]);
  const atOffset = readStrictDerElement(bytes('ff 02 01 00'), 1);
  t.same([atOffset?.tag, hexOf(atOffset?.value)], [DER_TAG.INTEGER, '00'], 'at an offset');
});

t.test('strict reader: anything not strict DER is undefined', async (t) => {
  const table: ReadonlyArray<readonly [string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['tag only', bytes('02')],
    ['contents past the end', bytes('02 02 01')],
    // A child read inside its parent's contents cannot reach the bytes after the parent.
    ['contents past the parent', readDerElement(bytes('30 02 02 01 01')).value],
    ['indefinite length', bytes('30 80 00 00')],
    ['long form for a short length', bytes('02 81 01 00')],
    ['long form with a leading zero', bytes(`02 82 0081 ${'00'.repeat(0x81)}`)],
    ['four length bytes', bytes('02 84 01000000')],
    ['truncated length bytes', bytes('02 82 01')],
    ['high tag number form', bytes('1f 01 00')],
  ];
  for (const [what, input] of table) t.equal(readStrictDerElement(input), undefined, what);
});

t.test('BOOLEAN: any non-zero octet is TRUE (tpm2-openssl writes 0x01)', async (t) => {
  t.equal(decodeDerBoolean(readDerElement(bytes('01 01 ff')), 'flag'), true);
  t.equal(decodeDerBoolean(readDerElement(bytes('01 01 01')), 'flag'), true);
  t.equal(decodeDerBoolean(readDerElement(bytes('01 01 00')), 'flag'), false);
  t.same(errorOf(() => decodeDerBoolean(readDerElement(bytes('01 02 0000')), 'flag')), malformed('flag is a BOOLEAN of 2 bytes'));
  t.same(errorOf(() => decodeDerBoolean(readDerElement(bytes('02 01 01')), 'flag')), malformed('flag is missing or has the wrong type'));
});

t.test('INTEGER up to a caller-chosen maximum (32-bit TPM handles)', async (t) => {
  const uint32 = (hex: string): number => decodeDerSmallInteger(readDerElement(bytes(hex)), 'parent', 0xffff_ffff);
  t.equal(uint32('02 04 40000001'), 0x40000001);
  t.equal(uint32('02 05 0081000001'), 0x81000001, 'a leading 00 keeps the high bit positive');
  t.equal(uint32('02 06 0000ffffffff'), 0xffffffff, 'extra leading zeros are tolerated');
  t.same(errorOf(() => uint32('02 05 0100000000')), malformed('parent is too large'));
});

t.test('a caller words the problem itself: it gets the facts to quote', async (t) => {
  t.same(problemOf((fail) => readDerElement(bytes('30 05 00'), 0, fail)), { kind: 'past the end', offset: 0, length: 5, available: 1 });
  t.same(problemOf((fail) => readDerElement(bytes('00 00 30 85 0000000001'), 2, fail)), { kind: 'length too large', offset: 2, lengthBytes: 5 });
  t.same(problemOf((fail) => readDerChildren(readDerElement(bytes('30 04 02 01 00 30')), fail)), { kind: 'missing length', offset: 3 }, 'offsets count within the parent');
  t.same(problemOf((fail) => readWholeDerElement(bytes('05 00 00'), fail)), { kind: 'trailing bytes' });
  t.same(problemOf((fail) => decodeDerOid(readDerElement(bytes('06 01 81')), 'type', fail)), { kind: 'OID cut off', what: 'type' });
  t.same(problemOf((fail) => decodeDerSmallInteger(readDerElement(bytes('02 01 80')), 'parent', 0xffff_ffff, fail)), { kind: 'negative INTEGER', what: 'parent' });
  t.same(problemOf((fail) => decodeDerBoolean(readDerElement(bytes('01 00')), 'emptyAuth', fail)), { kind: 'BOOLEAN size', what: 'emptyAuth', size: 0 });
  t.same(errorOf(() => readDerElement(bytes('30 80'), 0, (problem) => new SignerError('TPM_KEYFILE_INVALID', problem.kind))), { code: 'TPM_KEYFILE_INVALID', message: 'indefinite length' });
});
