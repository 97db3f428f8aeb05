export { signRequest } from './signRequest.js';
export { buildCanonicalRequest } from './buildCanonicalRequest.js';
export type { CanonicalRequest, CanonicalRequestInput } from './buildCanonicalRequest.js';
export { buildStringToSign } from './buildStringToSign.js';
export { buildCredentialScope } from './buildCredentialScope.js';
export { buildCanonicalUri } from './buildCanonicalUri.js';
export { algorithmFor } from './algorithmFor.js';
export { certificateSerialDecimal } from './certificateSerialDecimal.js';
export { formatAmzDate } from './formatAmzDate.js';
export { encodeQuery } from './encodeQuery.js';
export { escapeUri } from './escapeUri.js';
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
