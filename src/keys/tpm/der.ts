import { SignerError } from '../../errors.js';

/**
 * A small BER/DER element reader for TSS2 key files. It is deliberately lenient where tools
 * differ (a BOOLEAN TRUE written as 0x01, an explicit FALSE that DER would omit) and strict
 * where a mistake would mislead (lengths past the end, indefinite lengths).
 */
export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number below 31). */
  readonly tag: number;
  readonly value: Buffer;
  /** Offset just past this element in the buffer it was read from. */
  readonly end: number;
}

/** Problems are reported as TPM_KEYFILE_INVALID; keyfile.ts adds which file. */
function derError(problem: string): SignerError {
  return new SignerError('TPM_KEYFILE_INVALID', problem);
}

export const DER_TAG = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  OBJECT_IDENTIFIER: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  /** [n] EXPLICIT: context-specific, constructed. */
  context: (n: number): number => 0xa0 | n,
});

export function readElement(buffer: Buffer, offset: number): DerElement {
  if (offset + 2 > buffer.length) throw derError(`an element header is cut off at offset ${offset}`);
  const tag = buffer[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw derError(`multi-byte tag at offset ${offset}`);
  const first = buffer[offset + 1] as number;
  let position = offset + 2;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw derError(`indefinite length at offset ${offset}`);
    if (count > 4) throw derError(`a length of ${count} bytes at offset ${offset}`);
    if (position + count > buffer.length) throw derError(`a length is cut off at offset ${offset}`);
    length = buffer.readUIntBE(position, count);
    position += count;
  }
  if (position + length > buffer.length) {
    throw derError(`an element at offset ${offset} needs ${length} bytes, ${buffer.length - position} left`);
  }
  return { tag, value: buffer.subarray(position, position + length), end: position + length };
}

/** All elements inside a constructed value, in order. */
export function readChildren(value: Buffer): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < value.length) {
    const element = readElement(value, offset);
    children.push(element);
    offset = element.end;
  }
  return children;
}

/** Dotted form of an OBJECT IDENTIFIER's contents. */
export function decodeObjectIdentifier(value: Buffer): string {
  if (value.length === 0) throw derError('an empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let current = 0;
  for (const byte of value) {
    current = current * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = current < 80 ? Math.floor(current / 40) : 2;
        arcs.push(first, current - first * 40);
      } else {
        arcs.push(current);
      }
      current = 0;
    }
  }
  if ((value[value.length - 1] as number) & 0x80) throw derError('an OBJECT IDENTIFIER is cut off');
  return arcs.join('.');
}

/** Any non-zero octet is TRUE: some tools write 0x01 where DER says 0xFF. */
export function decodeBoolean(value: Buffer): boolean {
  if (value.length !== 1) throw derError(`a BOOLEAN of ${value.length} bytes`);
  return value[0] !== 0;
}

/** A non-negative INTEGER that fits in 32 bits (handles), with or without a leading 0x00. */
export function decodeUint32(value: Buffer): number {
  if (value.length === 0) throw derError('an empty INTEGER');
  if (((value[0] as number) & 0x80) !== 0) throw derError('a negative INTEGER');
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  if (value.length - start > 4) throw derError('an INTEGER larger than 32 bits');
  return value.readUIntBE(start, value.length - start);
}
