import { SignerError } from '../errors.js';
import { algorithmFor } from './algorithm-for.js';
import { buildCanonicalRequest } from './build-canonical-request.js';
import { buildCredentialScope } from './build-credential-scope.js';
import { buildStringToSign } from './build-string-to-sign.js';
import { certificateSerialDecimal } from './certificate-serial-decimal.js';
import {
  AMZ_DATE_HEADER,
  AUTHORIZATION_HEADER,
  DEFAULT_SERVICE,
  HOST_HEADER,
  MAX_CHAIN_CERTIFICATES,
  SIGNER_OWNED_HEADERS,
  X509_CHAIN_HEADER,
  X509_HEADER,
} from './constants.js';
import { formatAmzDate } from './format-amz-date.js';
import type { SignedRequest, SigningOptions, SigningRequest } from './types.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;
const HOST_FORBIDDEN = /[\s/\\?#@]/;
const SCOPE_PART = /^[a-z0-9-]+$/;

/**
 * Signs a request with SigV4-X509 (IAM Roles Anywhere): adds Host, X-Amz-Date, X-Amz-X509,
 * X-Amz-X509-Chain (when there is a chain) and Authorization, signing every header sent except
 * authorization and user-agent. Pure apart from the signer: no clock, no I/O.
 *
 * @example
 * const signed = await signRequest(
 *   { method: 'POST', host: 'rolesanywhere.us-east-1.amazonaws.com', path: '/sessions',
 *     query: [['profileArn', profile], ['roleArn', role], ['trustAnchorArn', anchor]],
 *     headers: { 'content-type': 'application/json' }, body: '{"durationSeconds":3600}' },
 *   { signer: keySource, certificate: leafDer, region: 'us-east-1', signingDate: new Date() },
 * );
 * // send signed.headers with the body to https://<host><path>?<encodeQuery(query)>
 */
export async function signRequest(request: SigningRequest, options: SigningOptions): Promise<SignedRequest> {
  const chain = options.chain ?? [];
  if (chain.length > MAX_CHAIN_CERTIFICATES) {
    throw new SignerError(
      'CHAIN_INVALID',
      `certificate chain has ${chain.length} certificates but X-Amz-X509-Chain takes at most ${MAX_CHAIN_CERTIFICATES}: pass only the intermediates between the leaf and the trust anchor`,
    );
  }
  const service = options.service ?? DEFAULT_SERVICE;
  checkScopePart('region', options.region);
  checkScopePart('service', service);
  const algorithm = algorithmFor(options.signer.keyType);
  // Before the signer runs: a bad certificate must not cost a PIN prompt or a key touch.
  const serial = certificateSerialDecimal(options.certificate);
  const amzDate = formatAmzDate(options.signingDate);
  const credentialScope = buildCredentialScope(amzDate, options.region, service);

  const headers = collectRequestHeaders(request);
  headers[HOST_HEADER] = request.host;
  headers[AMZ_DATE_HEADER] = amzDate;
  headers[X509_HEADER] = toBase64(options.certificate);
  if (chain.length > 0) headers[X509_CHAIN_HEADER] = chain.map(toBase64).join(',');

  const { canonicalRequest, signedHeaders } = buildCanonicalRequest({
    method: request.method,
    path: request.path,
    query: request.query,
    headers,
    body: request.body,
  });
  const stringToSign = buildStringToSign(algorithm, amzDate, credentialScope, canonicalRequest);
  const signature = await options.signer.sign(Buffer.from(stringToSign, 'utf8'));
  headers[AUTHORIZATION_HEADER] =
    `${algorithm} Credential=${serial}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${toHex(signature)}`;
  return { headers, canonicalRequest, stringToSign, signedHeaders, signature };
}

function collectRequestHeaders(request: SigningRequest): Record<string, string> {
  if (request.host === '' || HOST_FORBIDDEN.test(request.host)) {
    throw new SignerError('USAGE', `request host "${request.host}" is not a host name with an optional :port`);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const lowerName = name.toLowerCase();
    if (!HEADER_NAME.test(lowerName)) {
      throw new SignerError('USAGE', `request header name "${name}" is not an HTTP token: use letters, digits and -`);
    }
    if (SIGNER_OWNED_HEADERS.has(lowerName)) {
      throw new SignerError('USAGE', `request header "${lowerName}" is set by the signer: leave it out of the request headers`);
    }
    if (Object.hasOwn(headers, lowerName)) {
      throw new SignerError('USAGE', `request header "${lowerName}" is given twice (names are case-insensitive): pass it once`);
    }
    // The value is not quoted back: a header may carry something private.
    if (HEADER_VALUE_FORBIDDEN.test(value)) {
      throw new SignerError('USAGE', `request header "${lowerName}" contains a line break or NUL: remove it`);
    }
    headers[lowerName] = value;
  }
  return headers;
}

function checkScopePart(what: 'region' | 'service', value: string): void {
  if (!SCOPE_PART.test(value)) {
    throw new SignerError('USAGE', `${what} "${value}" is not valid in a credential scope: use lower-case letters, digits and -`);
  }
}

// Views over the caller's bytes: no copy of certificates or signatures.
function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
