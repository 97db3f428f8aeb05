/**
 * The one error class of the project. Every failure a user can meet is a SignerError with a
 * stable `code` (for scripts and tests) and a message that says what was wrong and what to do.
 * Messages never contain secrets: PINs, passwords, secret keys and session tokens stay out.
 */
export type SignerErrorCode =
  // usage and configuration
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'ARN_INVALID'
  | 'REGION_MISMATCH'
  | 'ENDPOINT_INVALID'
  | 'NOT_SUPPORTED'
  // certificates
  | 'CERT_NOT_FOUND'
  | 'CERT_INVALID'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_REJECTED_BY_RULES'
  | 'CERT_KEY_MISMATCH'
  | 'CHAIN_INVALID'
  // key files
  | 'KEY_NOT_FOUND'
  | 'KEY_INVALID'
  | 'KEY_PASSWORD_REQUIRED'
  | 'KEY_PASSWORD_INCORRECT'
  | 'KEY_TYPE_UNSUPPORTED'
  // secrets (PINs, passwords)
  | 'SECRET_UNAVAILABLE'
  | 'SECRET_SOURCE_INVALID'
  // PKCS#11
  | 'PKCS11_UNAVAILABLE'
  | 'PKCS11_URI_INVALID'
  | 'PKCS11_MODULE_LOAD_FAILED'
  | 'PKCS11_TOKEN_NOT_FOUND'
  | 'PKCS11_OBJECT_NOT_FOUND'
  | 'PKCS11_OBJECT_AMBIGUOUS'
  | 'PKCS11_OBJECT_EXISTS'
  | 'PKCS11_PIN_INCORRECT'
  | 'PKCS11_PIN_LOCKED'
  | 'PKCS11_PIN_REQUIRED'
  | 'PKCS11_DEVICE_ERROR'
  | 'PKCS11_MECHANISM_UNSUPPORTED'
  // TPM
  | 'TPM_UNAVAILABLE'
  | 'TPM_PERMISSION_DENIED'
  | 'TPM_TRANSPORT_FAILED'
  | 'TPM_COMMAND_FAILED'
  | 'TPM_KEYFILE_INVALID'
  | 'TPM_PARENT_NOT_FOUND'
  | 'TPM_AUTH_FAILED'
  | 'TPM_LOCKOUT'
  | 'TPM_HANDLE_IN_USE'
  // CreateSession and other HTTP
  | 'CREATE_SESSION_DENIED'
  | 'CREATE_SESSION_INVALID_REQUEST'
  | 'CREATE_SESSION_NOT_FOUND'
  | 'CREATE_SESSION_THROTTLED'
  | 'CREATE_SESSION_SERVER_ERROR'
  | 'CREATE_SESSION_BAD_RESPONSE'
  | 'NETWORK_ERROR'
  | 'TLS_UNTRUSTED'
  | 'RESPONSE_TOO_LARGE'
  // proxies (--with-proxy)
  | 'PROXY_INVALID'
  | 'PROXY_UNREACHABLE'
  | 'PROXY_AUTH_REQUIRED'
  | 'PROXY_TUNNEL_FAILED'
  | 'PROXY_TLS_UNTRUSTED'
  // long-running modes
  | 'SERVE_BIND_FAILED'
  | 'CREDENTIALS_UNAVAILABLE'
  | 'CREDENTIALS_FILE_FAILED'
  | 'CACHE_FAILED'
  | 'HARDENING_UNAVAILABLE'
  // emulator
  | 'EMULATOR_CONFIG_INVALID'
  // the user pressed Ctrl-C at a prompt (exit 130, as a shell reports SIGINT)
  | 'INTERRUPTED'
  // stdout closed before the output was written (the reader exited)
  | 'OUTPUT_CLOSED'
  // last resort; the CLI prints it with a hint to rerun with --debug
  | 'INTERNAL';

export class SignerError extends Error {
  override readonly name = 'SignerError';
  readonly code: SignerErrorCode;
  /** The most likely local cause, when one is known (the CLI prints it as a second line, `hint: ...`). */
  readonly hint?: string;

  constructor(code: SignerErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

export function isSignerError(value: unknown, code?: SignerErrorCode): value is SignerError {
  return value instanceof SignerError && (code === undefined || value.code === code);
}

/** A short, secret-free description of an unknown thrown value, for `cause` chains in --debug. */
export function describeCause(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return String(value);
}
