/**
 * A deliberately small, independent SigV4-X509 signer for the emulator's tests: plain
 * node:crypto and string building, no @smithy helpers (the emulator uses those) and no
 * src/sigv4x509 (the product signer, cross-checked in its own test). Every knob a test needs to
 * build a bad request is an option.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

export interface TestRequestOptions {
  readonly url: string;
  readonly region: string;
  readonly privateKey: KeyObject | string;
  readonly keyType: 'RSA' | 'EC';
  readonly certificateDer: Uint8Array;
  readonly chainDers?: readonly Uint8Array[];
  readonly query: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signingDate: Date;
  /** Overrides for crafting bad requests. */
  readonly serialOverride?: string;
  readonly scopeRegion?: string;
  readonly scopeService?: string;
  readonly signedHeadersOverride?: readonly string[];
  /** Replaces the body after signing (a tampered request). */
  readonly bodyAfterSigning?: string;
  readonly algorithmOverride?: string;
  /** Sent (and signed) as X-Amz-X509-Chain instead of the base64 of chainDers. */
  readonly chainHeaderOverride?: string;
}

export interface TestResponse {
  readonly status: number;
  readonly errorType: string | null;
  readonly reason: string | null;
  readonly json: Record<string, unknown>;
}

export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function serialDecimal(der: Uint8Array): string {
  const bytes = new Uint8Array(AsnConvert.parse(der, Certificate).tbsCertificate.serialNumber);
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`).toString(10);
}

export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

export function signTestRequest(options: TestRequestOptions): { url: string; headers: Record<string, string>; body: string } {
  const url = new URL(options.url);
  const date = amzDate(options.signingDate);
  const queryString = Object.keys(options.query)
    .sort()
    .map((name) => `${rfc3986(name)}=${rfc3986(options.query[name] ?? '')}`)
    .join('&');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: url.host,
    'x-amz-date': date,
    'x-amz-x509': Buffer.from(options.certificateDer).toString('base64'),
  };
  if (options.chainHeaderOverride !== undefined) {
    headers['x-amz-x509-chain'] = options.chainHeaderOverride;
  } else if (options.chainDers !== undefined && options.chainDers.length > 0) {
    headers['x-amz-x509-chain'] = options.chainDers.map((der) => Buffer.from(der).toString('base64')).join(',');
  }
  const signedNames = options.signedHeadersOverride ?? Object.keys(headers).sort();
  const canonicalRequest = [
    'POST',
    '/sessions',
    queryString,
    signedNames.map((name) => `${name}:${(headers[name] ?? '').trim()}\n`).join(''),
    signedNames.join(';'),
    createHash('sha256').update(options.body).digest('hex'),
  ].join('\n');
  const scope = `${date.slice(0, 8)}/${options.scopeRegion ?? options.region}/${options.scopeService ?? 'rolesanywhere'}/aws4_request`;
  const algorithm = options.algorithmOverride ?? (options.keyType === 'RSA' ? 'AWS4-X509-RSA-SHA256' : 'AWS4-X509-ECDSA-SHA256');
  const stringToSign = `${algorithm}\n${date}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  // node:crypto: PKCS#1 v1.5 for RSA keys, DER-encoded ECDSA for EC keys.
  const signature = sign('sha256', Buffer.from(stringToSign), options.privateKey).toString('hex');
  const serial = options.serialOverride ?? serialDecimal(options.certificateDer);
  headers['authorization'] = `${algorithm} Credential=${serial}/${scope}, SignedHeaders=${signedNames.join(';')}, Signature=${signature}`;
  return { url: `${url.origin}/sessions?${queryString}`, headers, body: options.bodyAfterSigning ?? options.body };
}

export async function send(request: { url: string; headers: Record<string, string>; body: string }): Promise<TestResponse> {
  const { host: _host, ...headers } = request.headers;
  const response = await fetch(request.url, { method: 'POST', headers, body: request.body });
  const text = await response.text();
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    reason: response.headers.get('x-emulator-reason'),
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}
