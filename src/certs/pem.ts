import { SignerError, type SignerErrorCode } from '../errors.js';

/** One `-----BEGIN label-----` ... `-----END label-----` block (RFC 7468). */
export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
  /**
   * RFC 1421 headers (`Proc-Type`, `DEK-Info`) of legacy encrypted keys; empty for everything
   * else. Kept so a caller can recognise and reject that encryption with a clear message.
   */
  readonly headers: ReadonlyMap<string, string>;
  /** 1-based line of the BEGIN line, for messages. */
  readonly line: number;
}

export interface PemParseContext {
  /** Names the input in messages, e.g. `certificate file /etc/x.pem`. */
  readonly source: string;
  /** The code of every error, so a damaged key file reports KEY_INVALID and a certificate CERT_INVALID. */
  readonly errorCode: SignerErrorCode;
}

const BEGIN_LINE = /^-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----$/;
const END_LINE = /^-----END ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----$/;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when the bytes hold at least one PEM BEGIN line (the rest may still be damaged). */
export function looksLikePem(input: Uint8Array): boolean {
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).includes('-----BEGIN ');
}

/**
 * Every PEM block of `text`, in file order. Text outside blocks (OpenSSL's "Bag Attributes",
 * `subject=` lines, comments) is ignored, as RFC 7468 allows; CRLF and surrounding whitespace
 * are tolerated. A block that is cut off, mislabelled or not base64 is an error, never skipped:
 * silently dropping half a chain would surface much later as an untrusted certificate.
 */
export function parsePemBlocks(text: string, context: PemParseContext): PemBlock[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  const blocks: PemBlock[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = (lines[index] as string).trim();
    const begin = BEGIN_LINE.exec(line);
    if (begin === null) {
      if (END_LINE.test(line)) {
        fail(context, `line ${index + 1} is an END line without a BEGIN line: the file is damaged or cut at the start; get a fresh copy`);
      }
      index++;
      continue;
    }
    const label = begin[1] ?? '';
    const beginLine = index + 1;
    const body: string[] = [];
    const headers = new Map<string, string>();
    let inHeaders = true;
    let lastHeader: string | undefined;
    let ended = false;
    for (index++; index < lines.length; index++) {
      const raw = lines[index] as string;
      const current = raw.trim();
      const end = END_LINE.exec(current);
      if (end !== null) {
        const endLabel = end[1] ?? '';
        if (endLabel !== label) {
          fail(context, `PEM block "${label}" that begins on line ${beginLine} ends with "-----END ${endLabel}-----" on line ${index + 1}: the file is damaged; get a fresh copy`);
        }
        ended = true;
        index++;
        break;
      }
      if (BEGIN_LINE.test(current)) {
        fail(context, `PEM block "${label}" that begins on line ${beginLine} has no END line before the next BEGIN on line ${index + 1}: the file is damaged; get a fresh copy`);
      }
      if (inHeaders) {
        if (lastHeader !== undefined && /^[ \t]/.test(raw) && current !== '') {
          headers.set(lastHeader, `${headers.get(lastHeader) ?? ''}${current}`);
          continue;
        }
        const colon = current.indexOf(':');
        if (colon > 0 && body.length === 0) {
          lastHeader = current.slice(0, colon).trim();
          headers.set(lastHeader, current.slice(colon + 1).trim());
          continue;
        }
        inHeaders = false;
      }
      if (current !== '') body.push(current);
    }
    if (!ended) {
      fail(context, `PEM block "${label}" that begins on line ${beginLine} has no END line: the file is truncated; get a fresh copy`);
    }
    blocks.push({ label, der: decodeBody(body.join(''), label, beginLine, context), headers, line: beginLine });
  }
  return blocks;
}

function decodeBody(base64: string, label: string, beginLine: number, context: PemParseContext): Uint8Array {
  if (base64 === '') {
    fail(context, `PEM block "${label}" that begins on line ${beginLine} is empty: the file is damaged; get a fresh copy`);
  }
  // Buffer.from(..., 'base64') skips anything it does not understand, so check first.
  if (!BASE64_BODY.test(base64) || base64.length % 4 !== 0) {
    fail(context, `PEM block "${label}" that begins on line ${beginLine} is not valid base64: the file is damaged or truncated; get a fresh copy`);
  }
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

function fail(context: PemParseContext, detail: string): never {
  throw new SignerError(context.errorCode, `${context.source}: ${detail}`);
}

/** PEM text of one DER block, 64 characters a line, as OpenSSL writes it. */
export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
