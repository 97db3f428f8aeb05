/**
 * The local CreateSession emulator: a product feature (`roles-anywhere-signer emulate`) and the
 * endpoint every end-to-end test runs against. See docs/emulator.md.
 */
export { startEmulator } from './server.js';
export type { EmulatorOptions, EmulatorStats, RunningEmulator } from './server.js';
export { loadEmulatorConfigFile, resolveEmulatorConfig, certificatesFromPem, parseRolesAnywhereArn, parseRoleArn } from './config.js';
export type {
  EmulatorConfig,
  ProfileConfig,
  ResolvedEmulatorConfig,
  ResolvedProfile,
  ResolvedTrustAnchor,
  RoleConfig,
  TrustAnchorConfig,
} from './config.js';
export { handleCreateSession } from './create-session.js';
export { MAX_CLOCK_SKEW_MS } from './canonical-request.js';
export type { CreateSessionResponseBody, Rejection, ServiceErrorType } from './create-session.js';
export { validateCertificatePath } from './path-validation.js';
export type { PathFailureReason, PathValidationResult } from './path-validation.js';
export { createCertificateAuthority, derToPem, generateAnyKeyPair, generateKeyPair, generateMlDsaKeyPair, issueLeafCertificate } from './pki.js';
export { loadCertificateAuthority } from './load-ca.js';
export type { LoadCertificateAuthorityOptions } from './load-ca.js';
export type {
  CertificateAuthority,
  ClassicKeyAlgorithm,
  CreateCertificateAuthorityOptions,
  GeneratedKeyPair,
  GeneratedMlDsaKeyPair,
  IssueLeafCertificateOptions,
  IssuedCertificate,
  KeyAlgorithm,
  KeyUsageName,
  PublicKeyInput,
  SignatureHash,
} from './pki.js';
