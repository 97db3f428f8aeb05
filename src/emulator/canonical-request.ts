/**
 * The SigV4 canonical request as a verifier rebuilds it from what arrived on the wire, from
 * @smithy/signature-v4's own helpers (deliberately not src/sigv4x509: the emulator and the signer
 * must be independent, or a shared bug would verify itself). Shared by CreateSession
 * (SigV4-X509) and the STS stub (SigV4 HMAC): only the final signature step differs.
 */
import { HttpRequest } from '@smithy/protocol-http';
import { getCanonicalHeaders, getCanonicalQuery, getPayloadHash } from '@smithy/signature-v4';
import { Sha256, sha256Hex } from './sha256.js';

/** One HTTP request as received: raw path and query (still percent-encoded), lower-case headers. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface ParsedAuthorization {
  readonly algorithm: string;
  readonly credential: string;
  /** Lower-case names, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/**
 * `ALGORITHM Credential=..., SignedHeaders=a;b, Signature=hex`. The problem text follows the
 * wording AWS front ends use for malformed Authorization headers.
 */
export function parseAuthorization(header: string): ParseResult<ParsedAuthorization> {
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  if (space <= 0) return { ok: false, problem: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters." };
  const algorithm = trimmed.slice(0, space);
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const equals = part.indexOf('=');
    if (equals < 0) continue;
    fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    return { ok: false, problem: `Authorization header requires ${missing.map((name) => `'${name}'`).join(', ')} parameter${missing.length > 1 ? 's' : ''}.` };
  }
  return {
    ok: true,
    value: {
      algorithm,
      credential: fields.get('Credential') ?? '',
      signedHeaders: (fields.get('SignedHeaders') ?? '').split(';').map((name) => name.trim().toLowerCase()),
      signature: fields.get('Signature') ?? '',
    },
  };
}

/** The query as SigV4 sees it: names and values percent-decoded, '+' kept literally. */
export function parseRawQuery(rawQuery: string): ParseResult<Record<string, string | string[]>> {
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (rawQuery === '') return { ok: true, value: query };
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(equals < 0 ? pair : pair.slice(0, equals));
      value = equals < 0 ? '' : decodeURIComponent(pair.slice(equals + 1));
    } catch {
      return { ok: false, problem: 'The query string is not valid percent-encoding.' };
    }
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return { ok: true, value: query };
}

export type CanonicalRequestFailure = 'SIGNED_HEADER_ABSENT' | 'PAYLOAD_HASH_MISMATCH';

export type CanonicalRequestResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly code: CanonicalRequestFailure; readonly problem: string };

/**
 * Builds the canonical request over exactly the headers the client says it signed. Fails when
 * a signed header is absent from the request (nothing can verify then).
 */
export async function buildCanonicalRequest(
  request: ReceivedRequest,
  query: Record<string, string | string[]>,
  signedHeaderNames: readonly string[],
): Promise<CanonicalRequestResult> {
  const signedSet = new Set(signedHeaderNames);
  const headers: Record<string, string> = {};
  for (const name of signedSet) {
    const value = request.headers[name];
    if (value === undefined) return { ok: false, code: 'SIGNED_HEADER_ABSENT', problem: `Signed header '${name}' is missing from the request.` };
    headers[name] = value;
  }
  const httpRequest = new HttpRequest({
    method: request.method,
    path: request.path,
    query,
    headers,
    body: request.body,
  });
  // Passing the signed names as "signable" keeps headers smithy would normally skip
  // (user-agent, expect...) when the client chose to sign them.
  const canonicalHeaders = getCanonicalHeaders(httpRequest, undefined, signedSet);
  const sortedNames = Object.keys(canonicalHeaders).sort();
  // Always hash the body that arrived; a client-sent x-amz-content-sha256 must not stand in for it.
  const payloadHash = await getPayloadHash(new HttpRequest({ headers: {}, body: request.body }), Sha256);
  const claimedHash = request.headers['x-amz-content-sha256'];
  if (claimedHash !== undefined && claimedHash !== payloadHash) {
    return { ok: false, code: 'PAYLOAD_HASH_MISMATCH', problem: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  const text = [
    request.method,
    canonicalPath(request.path),
    getCanonicalQuery(httpRequest),
    sortedNames.map((name) => `${name}:${canonicalHeaders[name] ?? ''}\n`).join(''),
    sortedNames.join(';'),
    payloadHash,
  ].join('\n');
  return { ok: true, text };
}

/** `ALGORITHM \n X-Amz-Date \n scope \n hex(sha256(canonical request))` (SigV4, all variants). */
export function buildStringToSign(algorithm: string, amzDate: string, scope: string, canonicalRequest: string): string {
  return `${algorithm}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * Non-S3 SigV4 encodes each path segment once more on top of what the client sent (the wire
 * path is already encoded once), RFC 3986 unreserved characters kept.
 */
function canonicalPath(rawPath: string): string {
  return rawPath.split('/').map(escapeUriSegment).join('/');
}

function escapeUriSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Five minutes either way, as for every SigV4 service (the service does not document its own). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Why X-Amz-Date is too far from `now`, in the words of the SigV4 front ends (which clients and
 * users recognise); undefined within MAX_CLOCK_SKEW_MS. CreateSession and STS word it alike.
 */
export function clockSkewProblem(amzDateText: string, amzDate: Date, now: Date): string | undefined {
  const skew = amzDate.getTime() - now.getTime();
  if (Math.abs(skew) <= MAX_CLOCK_SKEW_MS) return undefined;
  const bound = formatAmzDate(new Date(now.getTime() + Math.sign(skew) * MAX_CLOCK_SKEW_MS));
  return skew < 0
    ? `Signature expired: ${amzDateText} is now earlier than ${bound} (${formatAmzDate(now)} - 5 min.)`
    : `Signature not yet current: ${amzDateText} is still later than ${bound} (${formatAmzDate(now)} + 5 min.)`;
}

/** `YYYYMMDDTHHMMSSZ` (ISO 8601 basic, UTC) -> Date; undefined when malformed. */
export function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 20240230 over into March: reject anything that does not round-trip.
  return formatAmzDate(date) === value ? date : undefined;
}

export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
