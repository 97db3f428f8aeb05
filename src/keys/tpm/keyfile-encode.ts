import { SignerError } from '../../errors.js';
import { encodePem } from '../../certs/pem.js';

/**
 * Writes the TSS2 PRIVATE KEY format that keyfile.ts reads (draft-bottomley-tpm2-keys): a
 * loadable key (OID 2.23.133.10.1.3), emptyAuth TRUE only when the key has no password (the
 * field is left out otherwise: DER omits a DEFAULT FALSE), the parent handle, and the TPM2B
 * blobs exactly as TPM2_Create returned them. tpm2-openssl and go-tpm-keyfiles read the result.
 */
export interface Tss2KeyFileFields {
  readonly emptyAuth: boolean;
  /** 0x40000001 (the owner hierarchy's SRK) or a persistent parent 0x81xxxxxx. */
  readonly parent: number;
  /** TPM2B_PUBLIC, size included. */
  readonly publicBlob: Uint8Array;
  /** TPM2B_PRIVATE, size included. */
  readonly privateBlob: Uint8Array;
}

// 2.23.133.10.1.3, encoded: 2*40+23 = 103 (0x67), 133 = 0x81 0x05, 10, 1, 3.
const LOADABLE_KEY_OID = Buffer.from('06066781050a0103', 'hex');

export function encodeTss2KeyFile(fields: Tss2KeyFileFields): Buffer {
  const parts: Buffer[] = [LOADABLE_KEY_OID];
  // [0] EXPLICIT BOOLEAN TRUE
  if (fields.emptyAuth) parts.push(Buffer.from('a003010101', 'hex'));
  parts.push(derUnsignedInteger(fields.parent), derElement(0x04, fields.publicBlob), derElement(0x04, fields.privateBlob));
  return derElement(0x30, Buffer.concat(parts));
}

export function encodeTss2KeyFilePem(fields: Tss2KeyFileFields): string {
  return encodePem('TSS2 PRIVATE KEY', encodeTss2KeyFile(fields));
}

function derUnsignedInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new SignerError('INTERNAL', `${value} is not a 32-bit handle`);
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  let start = 0;
  while (start < 3 && bytes[start] === 0 && ((bytes[start + 1] ?? 0) & 0x80) === 0) start++;
  const trimmed = bytes.subarray(start);
  // A set high bit would read as negative: DER puts a zero byte in front.
  return derElement(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function derElement(tag: number, contents: Uint8Array): Buffer {
  const length = contents.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else if (length <= 0xff) header = Buffer.from([tag, 0x81, length]);
  else if (length <= 0xffff) header = Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  else throw new SignerError('INTERNAL', `a TSS2 key field of ${length} bytes is too large`);
  return Buffer.concat([header, contents]);
}
