import { createHash } from 'node:crypto';
import { buildCanonicalUri } from './build-canonical-uri.js';
import { encodeQuery } from './encode-query.js';
import { UNSIGNED_HEADERS } from './constants.js';

export interface CanonicalRequestInput {
  readonly method: string;
  /** The path as sent on the wire. */
  readonly path: string;
  /** Decoded name/value pairs, in any order. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Every header that will be sent, lower-case names. Authorization and user-agent are skipped. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface CanonicalRequest {
  readonly canonicalRequest: string;
  /** `;`-joined sorted lower-case names, as in the Authorization header. */
  readonly signedHeaders: string;
}

/**
 * The SigV4 canonical request (ARCHITECTURE.md, "Protocol facts"):
 * METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body)).
 * The body hash is always the real one: x-amz-content-sha256, when a caller sends it, is just
 * another signed header.
 */
export function buildCanonicalRequest(input: CanonicalRequestInput): CanonicalRequest {
  const names = Object.keys(input.headers)
    .filter((name) => !UNSIGNED_HEADERS.has(name))
    .sort();
  let canonicalHeaders = '';
  for (const name of names) {
    canonicalHeaders += `${name}:${trimAll(input.headers[name] ?? '')}\n`;
  }
  const signedHeaders = names.join(';');
  const payloadHash = createHash('sha256').update(input.body, 'utf8').digest('hex');
  const canonicalRequest =
    `${input.method.toUpperCase()}\n${buildCanonicalUri(input.path)}\n${encodeQuery(input.query)}\n` +
    `${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  return { canonicalRequest, signedHeaders };
}

/**
 * SigV4 "trimall": no leading or trailing whitespace, each run of whitespace one space. The
 * published algorithm says "spaces"; botocore (`' '.join(value.split())`) and smithy
 * (`trim().replace(/\s+/g, ' ')`) treat a tab like a space, and the service accepts what they
 * sign, so a tab is collapsed too (`a\tb` -> `a b`), as the emulator does.
 */
function trimAll(value: string): string {
  // Base64 certificates are the bulk of the header bytes and hold no whitespace at all.
  if (!/\s/.test(value)) return value;
  return value.trim().replace(/\s+/g, ' ');
}
