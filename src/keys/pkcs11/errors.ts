import { SignerError } from '../../errors.js';

/**
 * The PKCS#11 return value name (`CKR_PIN_INCORRECT`) of an error thrown by pkcs11js, or
 * undefined for anything else. pkcs11js puts the name first in the message of its Pkcs11Error.
 */
export function ckrOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^(CKR_[A-Z0-9_]+)/.exec(error.message);
  return match?.[1];
}

/**
 * Return values that mean the session or the token is gone: reopen, do not retry as is.
 * CKR_DEVICE_ERROR is among them because ykcs11 answers so, rather than CKR_DEVICE_REMOVED,
 * when the card went away under an open session.
 */
const GONE = new Set([
  'CKR_DEVICE_ERROR',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
]);

export function isTokenGone(error: unknown): boolean {
  const ckr = ckrOf(error);
  return ckr !== undefined && GONE.has(ckr);
}

/**
 * A token failure as one line: what was being done, on which URI (never with a PIN), the
 * token's own return value, and what to try.
 */
export function tokenFailure(action: string, where: string, error: unknown): SignerError {
  if (error instanceof SignerError) return error;
  const ckr = ckrOf(error) ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
  if (isTokenGone(error)) {
    return new SignerError('PKCS11_DEVICE_ERROR', `${action} failed for ${where}: the token was removed or stopped answering (${ckr}): reconnect it and try again`, { cause: error });
  }
  if (ckr === 'CKR_MECHANISM_INVALID' || ckr === 'CKR_MECHANISM_PARAM_INVALID' || ckr === 'CKR_KEY_TYPE_INCONSISTENT' || ckr === 'CKR_KEY_FUNCTION_NOT_PERMITTED') {
    return new SignerError('PKCS11_MECHANISM_UNSUPPORTED', `${action} failed for ${where}: the token refuses this key for signing (${ckr}): use a key generated for signing (CKA_SIGN true) of type RSA or EC`, { cause: error });
  }
  return new SignerError('PKCS11_DEVICE_ERROR', `${action} failed for ${where} (${ckr}): check the token with \`roles-anywhere-signer list\` and retry with --debug`, { cause: error });
}
