/**
 * The package's `roles-anywhere-signer/emulator` entry: the local CreateSession (and STS
 * GetCallerIdentity) emulator, for tests, and the test PKI builders it takes certificates from.
 * See docs/emulator.md. A subpath of its own because it pulls in the X.509/ASN.1 stack and the
 * `Reflect.getMetadata` shim @peculiar/x509 needs, which a credential provider has no use for.
 */
export { startEmulator, createCertificateAuthority, issueLeafCertificate, generateKeyPair, generateMlDsaKeyPair, generateAnyKeyPair, loadCertificateAuthority } from './emulator/index.js';
export type { EmulatorConfig, EmulatorOptions, EmulatorStats, RunningEmulator } from './emulator/index.js';
export type { LoadCertificateAuthorityOptions } from './emulator/index.js';
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
} from './emulator/index.js';
