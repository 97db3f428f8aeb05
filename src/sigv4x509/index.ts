export { signRequest } from './sign-request.js';
export { buildCanonicalRequest } from './build-canonical-request.js';
export type { CanonicalRequest, CanonicalRequestInput } from './build-canonical-request.js';
export { buildStringToSign } from './build-string-to-sign.js';
export { buildCredentialScope } from './build-credential-scope.js';
export { buildCanonicalUri } from './build-canonical-uri.js';
export { algorithmFor } from './algorithm-for.js';
export { certificateSerialDecimal } from './certificate-serial-decimal.js';
export { formatAmzDate } from './format-amz-date.js';
export { encodeQuery } from './encode-query.js';
export { escapeUri } from './escape-uri.js';
export {
  ALGORITHM_BY_KEY_TYPE,
  DEFAULT_SERVICE,
  MAX_CHAIN_CERTIFICATES,
  AMZ_DATE_HEADER,
  X509_HEADER,
  X509_CHAIN_HEADER,
  AUTHORIZATION_HEADER,
} from './constants.js';
export type { RequestSigner, SignedRequest, SigningOptions, SigningRequest } from './types.js';
