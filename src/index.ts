/**
 * The library API of roles-anywhere-signer. Re-exports only; see docs/sdk.md.
 *
 * - `fromRolesAnywhere(options)`: a credential provider for the AWS SDK for JavaScript v3.
 * - `SignerError` / `isSignerError`: every failure, with a stable `code`.
 * - `startEmulator`: the local CreateSession (and STS GetCallerIdentity) emulator, for tests,
 *   with the test PKI builders it takes certificates from (`createCertificateAuthority`,
 *   `issueLeafCertificate`, `generateKeyPair`); see docs/emulator.md.
 */
export { fromRolesAnywhere } from './credentials/provider.js';
export type { RolesAnywhereProviderOptions, RolesAnywhereCredentialProvider } from './credentials/provider.js';
export type { Credentials } from './credentials/types.js';
export type { IdentityOptions } from './keys/identity.js';
export type { SessionOptions } from './rolesanywhere/session.js';
export type { SecretSpec } from './keys/secret.js';
export { SignerError, isSignerError } from './errors.js';
export type { SignerErrorCode } from './errors.js';
export { startEmulator, createCertificateAuthority, issueLeafCertificate, generateKeyPair, loadCertificateAuthority } from './emulator/index.js';
export type { LoadCertificateAuthorityOptions } from './emulator/index.js';
export type { EmulatorConfig, EmulatorOptions, EmulatorStats, RunningEmulator } from './emulator/index.js';
export type {
  CertificateAuthority,
  CreateCertificateAuthorityOptions,
  GeneratedKeyPair,
  IssueLeafCertificateOptions,
  IssuedCertificate,
  KeyAlgorithm,
  KeyUsageName,
  PublicKeyInput,
  SignatureHash,
} from './emulator/index.js';
