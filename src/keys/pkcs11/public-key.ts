import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Public keys rebuilt from PKCS#11 attributes, so the key/certificate match is proven with
 * what the token holds rather than assumed from the certificate. Pure.
 */

/** DER header (tag + length) for `length` content bytes. */
function derHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([derHeader(tag, body.length), body]);
}

const EC_PUBLIC_KEY_OID = Buffer.from('06072a8648ce3d0201', 'hex');

/**
 * CKA_EC_POINT is a DER OCTET STRING holding the point (PKCS#11 2.40), but some tokens return
 * the bare point. A bare uncompressed point is 04||X||Y with an odd length; the wrapped form is
 * 04 <len> 04||X||Y, so the length byte tells them apart.
 */
export function unwrapEcPoint(ecPoint: Uint8Array): Uint8Array {
  const bytes = Buffer.from(ecPoint);
  if (bytes[0] !== 0x04 || bytes.length < 3) return bytes;
  let contentStart = 2;
  let contentLength = bytes[1] ?? 0;
  if (contentLength & 0x80) {
    const lengthBytes = contentLength & 0x7f;
    contentLength = 0;
    for (let i = 0; i < lengthBytes; i++) contentLength = contentLength * 256 + (bytes[2 + i] ?? 0);
    contentStart = 2 + lengthBytes;
  }
  const first = bytes[contentStart];
  const wrapped = contentStart + contentLength === bytes.length && (first === 0x04 || first === 0x02 || first === 0x03);
  return wrapped ? bytes.subarray(contentStart) : bytes;
}

/** SubjectPublicKeyInfo from CKA_EC_PARAMS (a named-curve OID) and CKA_EC_POINT. */
export function ecPublicKeyFromAttributes(ecParams: Uint8Array, ecPoint: Uint8Array): KeyObject {
  const point = unwrapEcPoint(ecPoint);
  const spki = der(0x30, der(0x30, EC_PUBLIC_KEY_OID, ecParams), der(0x03, Buffer.from([0]), point));
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** RSA public key from CKA_MODULUS and CKA_PUBLIC_EXPONENT (unsigned big-endian). */
export function rsaPublicKeyFromAttributes(modulus: Uint8Array, publicExponent: Uint8Array): KeyObject {
  const strip = (value: Uint8Array): Buffer => {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    return Buffer.from(value.subarray(start));
  };
  return createPublicKey({ key: { kty: 'RSA', n: strip(modulus).toString('base64url'), e: strip(publicExponent).toString('base64url') }, format: 'jwk' });
}

export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}
