import type { SignerErrorCode } from '../errors.js';
import type { DebugLog } from '../debug.js';
import type { SecretSpec } from './secret.js';
import type { KeySource } from './types.js';

/** The key- and certificate-related flags, as the reference helper names them. */
export interface KeyOptions {
  readonly certificate?: string;
  readonly privateKey?: string;
  readonly pkcs11Lib?: string;
  readonly reusePin?: boolean;
  readonly pin?: Omit<SecretSpec, 'promptLabel'>;
  readonly tpmKeyPassword?: Omit<SecretSpec, 'promptLabel'>;
  readonly noTpmKeyPassword?: boolean;
  readonly tpmTcti?: string;
  readonly pkcs8Password?: Omit<SecretSpec, 'promptLabel'>;
  readonly touchNotice?: (message: string) => void;
}

/** Every source's spec carries its kind; the registry's union of them is KeySpec. */
export interface KindedSpec {
  readonly kind: string;
}

export interface ResolvedKeyOptions<Spec extends KindedSpec = KindedSpec> {
  readonly spec: Spec;
  /** A certificate file the source does not read itself; undefined when the source provides it. */
  readonly certificateFile?: string;
}

export type ReadFile = (path: string) => Buffer;

export interface OpenContext {
  readonly debug?: DebugLog;
}

/** What `load()` returns: the source's implementation, imported on first use only. */
export interface KeySourceImplementation<Spec extends KindedSpec> {
  open(spec: Spec, context: OpenContext): Promise<KeySource>;
}

/** read-certificate-data for certificates that live in the source (a token), not in a file. */
export interface CertificateDiscovery {
  /** True when the --certificate value names a certificate of this source (e.g. a pkcs11: URI). */
  claims(certificate: string): boolean;
  /** The text read-certificate-data prints for it. */
  describe(request: { readonly certificate: string; readonly modulePath?: string; readonly debug: DebugLog }): Promise<string>;
}

/**
 * How a key source describes itself to the rest of the program. Each source keeps one in its
 * folder (descriptor.ts), imports nothing heavy there, and is listed once in registry.ts; the
 * CLI, the cache, the SDK provider and read-certificate-data ask the registry instead of
 * switching on kinds. ARCHITECTURE.md ("Adding a key source") walks through one.
 */
export interface KeySourceDescriptor<Spec extends KindedSpec> {
  readonly kind: Spec['kind'];
  /**
   * Claims the flags when they select this source and turns them into its spec; undefined
   * leaves them to the next source in the registry's order. May read the head of a key file
   * (to recognise its PEM label), never opens a key, never asks for a secret.
   */
  claim(options: KeyOptions, readFile: ReadFile): ResolvedKeyOptions<Spec> | undefined;
  /**
   * What identifies the certificate for the `--cache` key when it is not a separate file
   * (those are fingerprinted by the cache itself), without opening the key: no PIN, no touch.
   * Undefined when nothing safe identifies it: the cache is then skipped.
   */
  cacheIdentity(spec: Spec, readFile: ReadFile): Promise<string | undefined>;
  /**
   * Authentication failures of this source: a retry could lock a card or count toward a TPM's
   * dictionary-attack lockout, so the long-running modes never retry them.
   */
  readonly authenticationFailureCodes: readonly SignerErrorCode[];
  /** The device went away (unplugged, socket closed): reopen the source on the next attempt. */
  readonly deviceLostCodes: readonly SignerErrorCode[];
  readonly certificateDiscovery?: CertificateDiscovery;
  /**
   * Set when this source cannot hold ML-DSA keys: an ML-DSA certificate with it is refused in
   * one line (NOT_SUPPORTED) before the key is opened, so no PIN or touch is spent on it.
   */
  readonly mlDsaRefusal?: MlDsaRefusal;
  load(): Promise<KeySourceImplementation<Spec>>;
}

/** Why a source cannot sign with ML-DSA: "cannot sign through <through>: <reason>". */
export interface MlDsaRefusal {
  readonly through: string;
  readonly reason: string;
}
