import { SignerError } from '../errors.js';

/**
 * The project's one DER reader, for the few small structures the ASN.1 schema packages do not
 * cover or that run too often for a full parse: PBES2/PBKDF2/PKCS#12-PBE parameters, CMS
 * EncryptedData, telling DER from PEM, the certificate serial on the signing path, and TSS2
 * key files. Only definite lengths and single-byte tags: none of these structures uses
 * anything else. Pure: no I/O, so the SigV4 core may use it.
 *
 * One TLV parser serves three kinds of caller:
 * - readDerElement and the decoders throw. By default the error is SignerError('INTERNAL',
 *   'malformed DER: ...'), which callers wrap in their own coded, user-facing error (keeping it
 *   as `cause`); a caller that words the problem itself passes `fail` (the TSS2 key file reader).
 * - readStrictDerElement returns undefined for anything that is not DER down to the length
 *   form, so the signing path can word its own error without a try.
 */
export interface DerElement {
  readonly tag: number;
  /** The contents octets (V of TLV). */
  readonly value: Uint8Array;
  /** The whole encoding, tag and length included. */
  readonly encoded: Uint8Array;
}

/** What was wrong, with the facts a message may quote. Offsets count from the start of the bytes read. */
export type DerProblem =
  | { readonly kind: 'no element' | 'missing length' | 'multi-byte tag' | 'indefinite length' | 'truncated length'; readonly offset: number }
  | { readonly kind: 'length too large'; readonly offset: number; readonly lengthBytes: number }
  | { readonly kind: 'past the end'; readonly offset: number; readonly length: number; readonly available: number }
  | { readonly kind: 'trailing bytes' }
  | { readonly kind: 'not constructed'; readonly tag: number }
  | { readonly kind: 'too few fields'; readonly what: string; readonly count: number; readonly minimum: number }
  | { readonly kind: 'BOOLEAN size'; readonly what: string; readonly size: number }
  | {
      readonly kind: 'wrong type' | 'empty OID' | 'OID arc too large' | 'OID cut off' | 'empty INTEGER' | 'negative INTEGER' | 'INTEGER too large';
      readonly what: string;
    };

/** Turns a problem into the error to throw. */
export type DerFailure = (problem: DerProblem) => SignerError;

export const DER_TAG = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0_PRIMITIVE: 0x80,
  CONTEXT_0_CONSTRUCTED: 0xa0,
});

const CONSTRUCTED_BIT = 0x20;

/** The problem in plain words, for messages that add their own context. */
export function describeDerProblem(problem: DerProblem): string {
  switch (problem.kind) {
    case 'no element': return 'no element where one was expected';
    case 'missing length': return 'missing length';
    case 'multi-byte tag': return 'multi-byte tag';
    case 'indefinite length': return 'indefinite length (BER, not DER)';
    case 'length too large': return 'length too large';
    case 'truncated length': return 'truncated length';
    case 'past the end': return 'element runs past the end of the data';
    case 'trailing bytes': return 'trailing bytes after the element';
    case 'not constructed': return `tag 0x${problem.tag.toString(16)} is not constructed`;
    case 'too few fields': return `${problem.what} has ${problem.count} fields, expected at least ${problem.minimum}`;
    case 'BOOLEAN size': return `${problem.what} is a BOOLEAN of ${problem.size} bytes`;
    case 'wrong type': return `${problem.what} is missing or has the wrong type`;
    case 'empty OID': return `${problem.what} is an empty OID`;
    case 'OID arc too large': return `${problem.what} has an OID arc too large`;
    case 'OID cut off': return `${problem.what} ends inside an OID arc`;
    case 'empty INTEGER': return `${problem.what} is an empty INTEGER`;
    case 'negative INTEGER': return `${problem.what} is negative`;
    case 'INTEGER too large': return `${problem.what} is too large`;
  }
}

/** The default failure: an internal error that the caller wraps in its own user-facing one. */
export const malformedDer: DerFailure = (problem) => new SignerError('INTERNAL', `malformed DER: ${describeDerProblem(problem)}`);

/** The one TLV parser. Accepts any definite length form up to 4 length octets; never throws. */
function parseDerElement(input: Uint8Array, offset: number): DerElement | DerProblem {
  // A header is at least a tag and a length octet; say so before reading either.
  if (offset >= input.length) return { kind: 'no element', offset };
  if (offset + 1 >= input.length) return { kind: 'missing length', offset };
  const tag = input[offset] as number;
  if ((tag & 0x1f) === 0x1f) return { kind: 'multi-byte tag', offset };
  const first = input[offset + 1] as number;
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const lengthBytes = first & 0x7f;
    if (lengthBytes === 0) return { kind: 'indefinite length', offset };
    if (lengthBytes > 4) return { kind: 'length too large', offset, lengthBytes };
    if (contentStart + lengthBytes > input.length) return { kind: 'truncated length', offset };
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + (input[contentStart + i] as number);
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (end > input.length) return { kind: 'past the end', offset, length, available: input.length - contentStart };
  return { tag, value: input.subarray(contentStart, end), encoded: input.subarray(offset, end) };
}

function isProblem(result: DerElement | DerProblem): result is DerProblem {
  return 'kind' in result;
}

/** Reads the element that starts at `offset`. */
export function readDerElement(input: Uint8Array, offset = 0, fail: DerFailure = malformedDer): DerElement {
  const result = parseDerElement(input, offset);
  if (isProblem(result)) throw fail(result);
  return result;
}

/**
 * The element at `offset` if it is strict DER, else undefined. Beyond readDerElement: the long
 * length form only where the short one cannot hold the length, in as few octets as possible
 * (X.690 10.1), and at most 3 of them (16 MiB), which no certificate or signature comes near.
 */
export function readStrictDerElement(input: Uint8Array, offset = 0): DerElement | undefined {
  const element = parseDerElement(input, offset);
  if (isProblem(element)) return undefined;
  const lengthBytes = element.encoded.length - element.value.length - 2;
  if (lengthBytes > 3) return undefined;
  if (lengthBytes > 0 && (element.value.length < 0x80 || input[offset + 2] === 0)) return undefined;
  return element;
}

/** Reads an element that must span `input` exactly (no trailing bytes). */
export function readWholeDerElement(input: Uint8Array, fail: DerFailure = malformedDer): DerElement {
  const element = readDerElement(input, 0, fail);
  if (element.encoded.length !== input.length) throw fail({ kind: 'trailing bytes' });
  return element;
}

/** Splits the contents of a constructed element into its children. */
export function readDerChildren(element: DerElement, fail: DerFailure = malformedDer): DerElement[] {
  if ((element.tag & CONSTRUCTED_BIT) === 0) throw fail({ kind: 'not constructed', tag: element.tag });
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < element.value.length) {
    const child = readDerElement(element.value, offset, fail);
    children.push(child);
    offset += child.encoded.length;
  }
  return children;
}

/** Children of an element that must carry `tag`; checks there are at least `minimum` of them. */
export function expectDerConstructed(element: DerElement | undefined, tag: number, minimum: number, what: string, fail: DerFailure = malformedDer): DerElement[] {
  if (element === undefined || element.tag !== tag) throw fail({ kind: 'wrong type', what });
  const children = readDerChildren(element, fail);
  if (children.length < minimum) throw fail({ kind: 'too few fields', what, count: children.length, minimum });
  return children;
}

export function expectDerPrimitive(element: DerElement | undefined, tag: number, what: string, fail: DerFailure = malformedDer): Uint8Array {
  if (element === undefined || element.tag !== tag) throw fail({ kind: 'wrong type', what });
  return element.value;
}

/** Dotted form of an OBJECT IDENTIFIER. */
export function decodeDerOid(element: DerElement | undefined, what: string, fail: DerFailure = malformedDer): string {
  const value = expectDerPrimitive(element, DER_TAG.OID, what, fail);
  if (value.length === 0) throw fail({ kind: 'empty OID', what });
  const arcs: number[] = [];
  let arc = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] as number;
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER) throw fail({ kind: 'OID arc too large', what });
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    } else if (i === value.length - 1) {
      throw fail({ kind: 'OID cut off', what });
    }
  }
  // The first subidentifier packs two arcs (X.690 8.19.4): 40 * first + second, first at most 2.
  const head = arcs[0] as number;
  const top = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [top, head - top * 40, ...arcs.slice(1)].join('.');
}

/**
 * A non-negative INTEGER up to `max` (iteration counts, key lengths, TPM handles), leading zero
 * octets allowed.
 */
export function decodeDerSmallInteger(element: DerElement | undefined, what: string, max = Number.MAX_SAFE_INTEGER, fail: DerFailure = malformedDer): number {
  const value = expectDerPrimitive(element, DER_TAG.INTEGER, what, fail);
  if (value.length === 0) throw fail({ kind: 'empty INTEGER', what });
  if (((value[0] as number) & 0x80) !== 0) throw fail({ kind: 'negative INTEGER', what });
  let result = 0;
  for (const byte of value) {
    result = result * 256 + byte;
    if (result > max) throw fail({ kind: 'INTEGER too large', what });
  }
  return result;
}

/** Any non-zero octet is TRUE: tpm2-openssl writes 0x01 where DER says 0xFF. */
export function decodeDerBoolean(element: DerElement | undefined, what: string, fail: DerFailure = malformedDer): boolean {
  const value = expectDerPrimitive(element, DER_TAG.BOOLEAN, what, fail);
  if (value.length !== 1) throw fail({ kind: 'BOOLEAN size', what, size: value.length });
  return value[0] !== 0;
}
