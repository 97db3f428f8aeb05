import { SignerError } from '../errors.js';

/**
 * A strict reader for the few small DER structures the ASN.1 schema packages do not cover
 * (PBES2/PBKDF2/PKCS#12-PBE parameters, CMS EncryptedData) and for telling DER from PEM.
 * Only definite lengths and single-byte tags: DER allows nothing else for these types.
 *
 * Malformed input throws SignerError('INTERNAL'); every caller wraps its parse in one try and
 * turns a failure into its own coded, user-facing error (the INTERNAL one stays as `cause`).
 */
export interface DerElement {
  readonly tag: number;
  /** The contents octets (V of TLV). */
  readonly value: Uint8Array;
  /** The whole encoding, tag and length included. */
  readonly encoded: Uint8Array;
}

export const DER_TAG = Object.freeze({
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0_PRIMITIVE: 0x80,
  CONTEXT_0_CONSTRUCTED: 0xa0,
});

const CONSTRUCTED_BIT = 0x20;

function malformed(what: string): SignerError {
  return new SignerError('INTERNAL', `malformed DER: ${what}`);
}

/** Reads the element that starts at `offset`. */
export function readDerElement(input: Uint8Array, offset = 0): DerElement {
  const tag = input[offset];
  if (tag === undefined) throw malformed('no element where one was expected');
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tag');
  const first = input[offset + 1];
  if (first === undefined) throw malformed('missing length');
  let length: number;
  let headerLength: number;
  if (first < 0x80) {
    length = first;
    headerLength = 2;
  } else {
    const lengthBytes = first & 0x7f;
    if (lengthBytes === 0) throw malformed('indefinite length (BER, not DER)');
    if (lengthBytes > 4) throw malformed('length too large');
    length = 0;
    for (let i = 0; i < lengthBytes; i++) {
      const byte = input[offset + 2 + i];
      if (byte === undefined) throw malformed('truncated length');
      length = length * 256 + byte;
    }
    headerLength = 2 + lengthBytes;
  }
  const end = offset + headerLength + length;
  if (end > input.length) throw malformed('element runs past the end of the data');
  return {
    tag,
    value: input.subarray(offset + headerLength, end),
    encoded: input.subarray(offset, end),
  };
}

/** Reads an element that must span `input` exactly (no trailing bytes). */
export function readWholeDerElement(input: Uint8Array): DerElement {
  const element = readDerElement(input, 0);
  if (element.encoded.length !== input.length) throw malformed('trailing bytes after the element');
  return element;
}

/** True when `input` is exactly one DER element with the given tag; never throws. */
export function isWholeDerElement(input: Uint8Array, tag: number): boolean {
  try {
    return readWholeDerElement(input).tag === tag;
  } catch {
    return false;
  }
}

/** Splits the contents of a constructed element into its children. */
export function readDerChildren(element: DerElement): DerElement[] {
  if ((element.tag & CONSTRUCTED_BIT) === 0) throw malformed(`tag 0x${element.tag.toString(16)} is not constructed`);
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < element.value.length) {
    const child = readDerElement(element.value, offset);
    children.push(child);
    offset += child.encoded.length;
  }
  return children;
}

/** Children of an element that must carry `tag`; checks there are at least `minimum` of them. */
export function expectDerConstructed(element: DerElement | undefined, tag: number, minimum: number, what: string): DerElement[] {
  if (element === undefined || element.tag !== tag) throw malformed(`${what} is missing or has the wrong type`);
  const children = readDerChildren(element);
  if (children.length < minimum) throw malformed(`${what} has ${children.length} fields, expected at least ${minimum}`);
  return children;
}

export function expectDerPrimitive(element: DerElement | undefined, tag: number, what: string): Uint8Array {
  if (element === undefined || element.tag !== tag) throw malformed(`${what} is missing or has the wrong type`);
  return element.value;
}

export function decodeDerOid(element: DerElement | undefined, what: string): string {
  const value = expectDerPrimitive(element, DER_TAG.OID, what);
  const first = value[0];
  if (first === undefined) throw malformed(`${what} is an empty OID`);
  const arcs: number[] = [];
  let arc = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] as number;
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER) throw malformed(`${what} has an OID arc too large`);
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    } else if (i === value.length - 1) {
      throw malformed(`${what} ends inside an OID arc`);
    }
  }
  const head = arcs[0] as number;
  const top = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [top, head - top * 40, ...arcs.slice(1)].join('.');
}

/** A non-negative INTEGER that fits a JavaScript safe integer (iteration counts, key lengths). */
export function decodeDerSmallInteger(element: DerElement | undefined, what: string): number {
  const value = expectDerPrimitive(element, DER_TAG.INTEGER, what);
  if (value.length === 0) throw malformed(`${what} is an empty INTEGER`);
  if (((value[0] as number) & 0x80) !== 0) throw malformed(`${what} is negative`);
  let result = 0;
  for (const byte of value) {
    result = result * 256 + byte;
    if (result > Number.MAX_SAFE_INTEGER) throw malformed(`${what} is too large`);
  }
  return result;
}
