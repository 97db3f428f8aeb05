import t from 'tap';
import {
  DER_TAG,
  decodeDerOid,
  decodeDerSmallInteger,
  isWholeDerElement,
  readDerChildren,
  readDerElement,
  readWholeDerElement,
} from '../../src/certs/der.js';

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/\s/g, ''), 'hex'));

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

t.test('elements, children and values', async (t) => {
  const sequence = readWholeDerElement(bytes('30 0c 06 0a 2a864886f70d010c0103'));
  t.equal(sequence.tag, DER_TAG.SEQUENCE);
  const [oid] = readDerChildren(sequence);
  t.equal(decodeDerOid(oid, 'oid'), '1.2.840.113549.1.12.1.3');
  t.equal(decodeDerOid(readDerElement(bytes('06 03 550403')), 'oid'), '2.5.4.3');
  t.equal(decodeDerOid(readDerElement(bytes('06 0a 0992268993f22c640119')), 'oid'), '0.9.2342.19200300.100.1.25');
  t.equal(decodeDerSmallInteger(readDerElement(bytes('02 02 0800')), 'n'), 2048);
  t.equal(decodeDerSmallInteger(readDerElement(bytes('02 03 00 ff ff')), 'n'), 65535);
  const long = readDerElement(bytes(`04 81 80 ${'ab'.repeat(128)}`));
  t.equal(long.value.length, 128, 'long-form length');
  t.equal(long.encoded.length, 131);
});

t.test('malformed input throws, with what was wrong', async (t) => {
  t.equal(messageOf(() => readDerElement(bytes('30 80 00 00'))), 'malformed DER: indefinite length (BER, not DER)');
  t.equal(messageOf(() => readDerElement(bytes('30 05 00'))), 'malformed DER: element runs past the end of the data');
  t.equal(messageOf(() => readWholeDerElement(bytes('05 00 00'))), 'malformed DER: trailing bytes after the element');
  t.equal(messageOf(() => readDerElement(bytes('1f 01 00'))), 'malformed DER: multi-byte tag');
  t.equal(messageOf(() => readDerElement(bytes('30 85 0000000001'))), 'malformed DER: length too large');
  t.equal(messageOf(() => readDerElement(new Uint8Array(0))), 'malformed DER: no element where one was expected');
  t.equal(messageOf(() => readDerChildren(readDerElement(bytes('04 01 00')))), 'malformed DER: tag 0x4 is not constructed');
  t.equal(messageOf(() => decodeDerSmallInteger(readDerElement(bytes('02 01 80')), 'count')), 'malformed DER: count is negative');
  t.equal(messageOf(() => decodeDerSmallInteger(readDerElement(bytes('04 01 01')), 'count')), 'malformed DER: count is missing or has the wrong type');
  t.equal(messageOf(() => decodeDerOid(readDerElement(bytes('06 01 81')), 'algorithm')), 'malformed DER: algorithm ends inside an OID arc');
  t.equal(isWholeDerElement(bytes('30 00'), DER_TAG.SEQUENCE), true);
  t.equal(isWholeDerElement(bytes('30 00 00'), DER_TAG.SEQUENCE), false);
  t.equal(isWholeDerElement(bytes('04 00'), DER_TAG.SEQUENCE), false);
});
