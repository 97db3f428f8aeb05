/**
 * The library API of roles-anywhere-signer. Re-exports only; see docs/sdk.md.
 *
 * - `fromRolesAnywhere(options)`: a credential provider for the AWS SDK for JavaScript v3.
 * - `SignerError` / `isSignerError`: every failure, with a stable `code`.
 *
 * The emulator lives behind its own entry, `roles-anywhere-signer/emulator` (src/emulator.ts), so
 * importing this one loads neither the emulator nor the X.509 stack and sets no global.
 */
export { fromRolesAnywhere } from './credentials/provider.js';
export type { RolesAnywhereProviderOptions, RolesAnywhereCredentialProvider } from './credentials/provider.js';
export type { Credentials } from './credentials/types.js';
export type { IdentityOptions } from './keys/identity.js';
export type { SessionOptions } from './rolesanywhere/session.js';
export type { SecretSpec } from './keys/secret.js';
export { SignerError, isSignerError } from './errors.js';
export type { SignerErrorCode } from './errors.js';
