/**
 * How two captured CreateSession requests are compared: the request line, the body and every
 * header by value, and the Authorization header part by part. The result is a sorted list of
 * named differences ("header:user-agent", "authorization:signature"), which the tests match
 * against the list declared for the case in results.ts, so that an unexpected difference, and
 * an expected one that went away, both fail.
 */
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { signRequest } from '../../src/sigv4x509/index.js';
import type { RequestSigner } from '../../src/sigv4x509/index.js';
import { headerValue, type CapturedRequest } from './capture.js';
import { parseAmzDate } from '../../scripts/fixtures/reference-helper.js';

export interface ParsedAuthorization {
  readonly algorithm: string;
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

export function parseAuthorization(value: string): ParsedAuthorization {
  const match = /^(\S+) Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$/.exec(value);
  if (match === null) throw new Error(`not a SigV4-X509 Authorization header: ${value.slice(0, 80)}`);
  const [, algorithm = '', credential = '', signedHeaders = '', signature = ''] = match;
  return { algorithm, credential, signedHeaders, signature };
}

/** Header names (lower case) to their value, joined with ',' when repeated. */
function headerMap(request: Pick<CapturedRequest, 'headerLines'>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of request.headerLines) {
    const key = name.toLowerCase();
    map.set(key, map.has(key) ? `${map.get(key)},${value}` : value);
  }
  return map;
}

/**
 * Named differences between the reference's request and ours. Header order and the spelling of
 * header names are HTTP framing (RFC 9110: names are case-insensitive) and reported as one item,
 * "framing:header-order-and-case", when they differ.
 */
export function requestDifferences(reference: CapturedRequest, ours: CapturedRequest): string[] {
  const differences = new Set<string>();
  if (reference.method !== ours.method) differences.add('request:method');
  if (reference.target !== ours.target) differences.add('request:target');
  if (!reference.body.equals(ours.body)) differences.add('request:body');
  const referenceHeaders = headerMap(reference);
  const ourHeaders = headerMap(ours);
  for (const name of new Set([...referenceHeaders.keys(), ...ourHeaders.keys()])) {
    if (name === 'authorization') continue;
    if (referenceHeaders.get(name) !== ourHeaders.get(name)) differences.add(`header:${name}`);
  }
  const referenceAuthorization = parseAuthorization(referenceHeaders.get('authorization') ?? '');
  const ourAuthorization = parseAuthorization(ourHeaders.get('authorization') ?? '');
  for (const part of ['algorithm', 'credential', 'signedHeaders', 'signature'] as const) {
    if (referenceAuthorization[part] !== ourAuthorization[part]) differences.add(`authorization:${part}`);
  }
  const order = (request: CapturedRequest): string => request.headerLines.map(([name]) => name).join('\n');
  if (order(reference) !== order(ours)) differences.add('framing:header-order-and-case');
  return [...differences].sort();
}

/**
 * Signs the reference's own request again with our SigV4-X509 core: the same method, target,
 * body, date, certificate, chain and every header the reference signed. For a deterministic
 * signature (RSA PKCS#1 v1.5) the Authorization must come out byte for byte the same; for ECDSA
 * the reference's signature must verify over the string to sign our core builds.
 */
export async function resignWithOurCore(
  reference: CapturedRequest,
  signer: RequestSigner,
  region: string,
): Promise<{ authorization: string; stringToSign: string }> {
  const headers = headerMap(reference);
  const authorization = parseAuthorization(headers.get('authorization') ?? '');
  const signerOwned = new Set(['host', 'x-amz-date', 'x-amz-x509', 'x-amz-x509-chain', 'authorization']);
  const extra: Record<string, string> = {};
  for (const name of authorization.signedHeaders.split(';')) {
    if (!signerOwned.has(name)) extra[name] = headers.get(name) ?? '';
  }
  const queryStart = reference.target.indexOf('?');
  const path = queryStart < 0 ? reference.target : reference.target.slice(0, queryStart);
  const query = queryStart < 0 ? [] : [...new URLSearchParams(reference.target.slice(queryStart + 1))];
  const chainHeader = headers.get('x-amz-x509-chain');
  const signed = await signRequest(
    { method: reference.method, host: headers.get('host') ?? '', path, query, headers: extra, body: reference.body.toString('utf8') },
    {
      signer,
      certificate: Buffer.from(headers.get('x-amz-x509') ?? '', 'base64'),
      chain: chainHeader === undefined ? [] : chainHeader.split(',').map((part) => Buffer.from(part, 'base64')),
      region,
      signingDate: parseAmzDate(headers.get('x-amz-date') ?? ''),
    },
  );
  return { authorization: signed.headers['authorization'] ?? '', stringToSign: signed.stringToSign };
}

/** Does the request's signature verify over this string to sign, under its own X-Amz-X509? */
export function signatureVerifies(request: CapturedRequest, stringToSign: string): boolean {
  const certificate = new X509Certificate(Buffer.from(headerValue(request, 'x-amz-x509') ?? '', 'base64'));
  const signature = Buffer.from(parseAuthorization(headerValue(request, 'authorization') ?? '').signature, 'hex');
  return verify('sha256', Buffer.from(stringToSign, 'utf8'), createPublicKey(certificate.publicKey.export({ type: 'spki', format: 'pem' })), signature);
}
