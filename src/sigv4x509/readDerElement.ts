/** One DER TLV: its tag byte and where its contents start and end within the input. */
export interface DerElement {
  readonly tag: number;
  readonly contentStart: number;
  readonly end: number;
}

/**
 * Reads the TLV at `offset`, strictly: single-byte tag, definite minimal length, contents
 * inside `limit`. Returns undefined for anything else, so each caller words its own error.
 * Shared by the certificate serial reader and the ECDSA signature codec.
 */
export function readDerElement(bytes: Uint8Array, offset: number, limit: number = bytes.length): DerElement | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = bytes[offset] ?? 0;
  // High-tag-number form (low five bits all set) never occurs in the structures we read.
  if ((tag & 0x1f) === 0x1f) return undefined;
  const first = bytes[offset + 1] ?? 0;
  let length = first;
  let contentStart = offset + 2;
  if (first >= 0x80) {
    const lengthBytes = first & 0x7f;
    // 0x80 is BER's indefinite length; more than 3 length bytes is beyond any certificate.
    if (lengthBytes === 0 || lengthBytes > 3 || contentStart + lengthBytes > limit) return undefined;
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + (bytes[contentStart + i] ?? 0);
    // DER: the long form only when needed, with no leading zero byte.
    if (length < 0x80 || (bytes[contentStart] ?? 0) === 0) return undefined;
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (end > limit) return undefined;
  return { tag, contentStart, end };
}
