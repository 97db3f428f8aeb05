import type { KeyType } from './types.js';

/** Algorithm ids of SigV4-X509, by key family (IAM Roles Anywhere User Guide, signing process). */
export const ALGORITHM_BY_KEY_TYPE: Readonly<Record<KeyType, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<KeyType, string>, {
    RSA: 'AWS4-X509-RSA-SHA256',
    EC: 'AWS4-X509-ECDSA-SHA256',
    'ML-DSA': 'AWS4-X509-MLDSA',
  }),
);

export const DEFAULT_SERVICE = 'rolesanywhere';
export const SCOPE_TERMINATOR = 'aws4_request';

export const HOST_HEADER = 'host';
export const AMZ_DATE_HEADER = 'x-amz-date';
export const X509_HEADER = 'x-amz-x509';
export const X509_CHAIN_HEADER = 'x-amz-x509-chain';
export const AUTHORIZATION_HEADER = 'authorization';
export const USER_AGENT_HEADER = 'user-agent';

/** Sent but never signed: the signature cannot cover itself, and proxies may rewrite the agent. */
export const UNSIGNED_HEADERS: ReadonlySet<string> = new Set([AUTHORIZATION_HEADER, USER_AGENT_HEADER]);

/** Headers the signer sets itself; a caller supplying one would be silently overridden. */
export const SIGNER_OWNED_HEADERS: ReadonlySet<string> = new Set([
  HOST_HEADER,
  AMZ_DATE_HEADER,
  X509_HEADER,
  X509_CHAIN_HEADER,
  AUTHORIZATION_HEADER,
]);

export { MAX_CHAIN_CERTIFICATES } from '../service-limits.js';
