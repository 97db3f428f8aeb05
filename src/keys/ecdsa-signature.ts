import { SignerError } from '../errors.js';
import { DER_TAG } from '../asn1/der.js';

const { SEQUENCE, INTEGER } = DER_TAG;

/**
 * ECDSA signatures travel as ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 2.2.3),
 * but PKCS#11 (CKM_ECDSA) returns raw r||s and a TPM returns r and s apart. This module is the
 * one conversion every key source uses.
 */

/** Raw r||s (two equal halves, as PKCS#11 returns it) to DER. */
export function rawEcdsaToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw malformed(`raw signature has ${raw.length} bytes, not two equal halves r||s`);
  }
  const half = raw.length / 2;
  return ecdsaIntegersToDer(raw.subarray(0, half), raw.subarray(half));
}

/**
 * r and s as unsigned big-endian byte strings of any length (a TPM may drop leading zeros) to
 * DER: leading zeros stripped, a 00 prepended where the high bit would make the INTEGER negative.
 */
export function ecdsaIntegersToDer(r: Uint8Array, s: Uint8Array): Uint8Array {
  const rStart = firstSignificantByte(r);
  const sStart = firstSignificantByte(s);
  const rLength = integerContentLength(r, rStart);
  const sLength = integerContentLength(s, sStart);
  const rElement = 1 + lengthOfLength(rLength) + rLength;
  const sElement = 1 + lengthOfLength(sLength) + sLength;
  const contentLength = rElement + sElement;
  const out = new Uint8Array(1 + lengthOfLength(contentLength) + contentLength);
  let at = writeHeader(out, 0, SEQUENCE, contentLength);
  at = writeInteger(out, at, r, rStart, rLength);
  writeInteger(out, at, s, sStart, sLength);
  return out;
}

function firstSignificantByte(value: Uint8Array): number {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  return start;
}

/** Content bytes of the INTEGER: the significant bytes plus a sign byte when the top bit is set. */
function integerContentLength(value: Uint8Array, start: number): number {
  if (value.length === 0) throw malformed('r or s is empty');
  return value.length - start + (((value[start] ?? 0) & 0x80) !== 0 ? 1 : 0);
}

function lengthOfLength(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  return 3;
}

function writeHeader(out: Uint8Array, at: number, tag: number, length: number): number {
  out[at++] = tag;
  if (length >= 0x100) {
    out[at++] = 0x82;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
  } else if (length >= 0x80) {
    out[at++] = 0x81;
    out[at++] = length;
  } else {
    out[at++] = length;
  }
  return at;
}

function writeInteger(out: Uint8Array, at: number, value: Uint8Array, start: number, length: number): number {
  at = writeHeader(out, at, INTEGER, length);
  if (length > value.length - start) out[at++] = 0;
  out.set(value.subarray(start), at);
  return at + value.length - start;
}

function malformed(detail: string): SignerError {
  return new SignerError('KEY_INVALID', `ECDSA signature is malformed (${detail}): the key source returned something that is not an ECDSA signature`);
}
