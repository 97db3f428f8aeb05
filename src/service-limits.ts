/**
 * Limits of IAM Roles Anywhere that more than one layer applies: the signing core refuses to
 * send more, and certs/chain.ts stops assembling there. Kept below both so neither imports
 * the other. (The emulator states its own copy on purpose: it checks requests independently.)
 */

/** The service rejects longer chains in X-Amz-X509-Chain. */
export const MAX_CHAIN_CERTIFICATES = 5;
