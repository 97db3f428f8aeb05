import type { SecretSpec } from './secret.js';

/** Environment variables that hold secrets, one name each, shared by every layer that reads them. */
export const PIN_ENV_VAR = 'ROLES_ANYWHERE_PIN';
export const PKCS8_PASSWORD_ENV_VAR = 'ROLES_ANYWHERE_PKCS8_PASSWORD';
export const TPM_KEY_PASSWORD_ENV_VAR = 'ROLES_ANYWHERE_TPM_KEY_PASSWORD';

/*
 * Each source's spec: what the user asked for, already split by kind, produced from flags by the
 * source's descriptor (`claim`). Their union, KeySpec, is derived from the registry
 * (src/keys/registry.ts), so a new source's spec joins it by being registered.
 */

export interface FileKeySpec {
  readonly kind: 'file';
  /** PEM or DER private key; undefined when `certificatePath` is a PKCS#12 file holding both. */
  readonly keyPath?: string;
  /** Certificate file: PEM/DER, or PKCS#12 (key and chain inside). */
  readonly certificatePath?: string;
  /** Password of an encrypted PKCS#8 key or a PKCS#12 file. */
  readonly password?: SecretSpec;
}

export interface Pkcs11KeySpec {
  readonly kind: 'pkcs11';
  /** pkcs11: URI of the private key; defaults to the certificate URI's token and CKA_ID. */
  readonly keyUri?: string;
  /** pkcs11: URI of the certificate on the token, when the certificate is not a file. */
  readonly certificateUri?: string;
  /** --pkcs11-lib; else module-path/module-name in the URI; else p11-kit-proxy. */
  readonly modulePath?: string;
  /** User PIN sources; `value`/`source` come from the URI's pin-value/pin-source when given. */
  readonly pin: Omit<SecretSpec, 'promptLabel'>;
  /** Reuse the user PIN for context-specific logins (CKA_ALWAYS_AUTHENTICATE keys). */
  readonly reusePin: boolean;
  /** Print "touch your key" on the terminal when a signature takes longer than a moment. */
  readonly touchNotice?: (message: string) => void;
}

export interface TpmKeySpec {
  readonly kind: 'tpm';
  /** A PEM file holding a TSS2 PRIVATE KEY (and optionally CERTIFICATE blocks). */
  readonly keyFile?: string;
  /** A persistent handle such as 0x81000101. */
  readonly handle?: number;
  /** Key authorization; ignored for emptyAuth key files. */
  readonly password: Omit<SecretSpec, 'promptLabel'>;
  /** --no-tpm-key-password: the key has no authorization, do not ask. */
  readonly noPassword: boolean;
  /** TCTI string (`device:/dev/tpmrm0`, `swtpm:host=127.0.0.1,port=2321`, `unix:/path`). */
  readonly tcti?: string;
}
