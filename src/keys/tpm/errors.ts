import { SignerError, isSignerError } from '../../errors.js';
import { TPM_KEY_PASSWORD_ENV_VAR } from '../spec.js';
import { tpmFailureOf } from './client.js';
import { TPM_HT, TPM_RH } from './constants.js';
import { TPM_RC } from './response-code.js';

/**
 * What a TPM failure means for the user, worded for the step that failed: creating the storage
 * parent, loading a key file under it, signing. Each returns the coded error to throw (the TPM's
 * own error as its cause), or the original when there is nothing to add.
 */

export function storagePrimaryError(error: unknown, context: { readonly hierarchy: number; readonly where: string; readonly path: string }): unknown {
  const hierarchy = hierarchyName(context.hierarchy);
  if (isSignerError(error, 'TPM_AUTH_FAILED')) {
    return new SignerError('TPM_AUTH_FAILED', `the ${hierarchy} hierarchy of the TPM at ${context.where} has a password, so the storage key that parents ${context.path} cannot be created: keys under a hierarchy need an empty hierarchy password; use a key under a persistent parent instead`, { cause: error });
  }
  if (isSignerError(error, 'TPM_COMMAND_FAILED')) {
    return new SignerError('TPM_PARENT_NOT_FOUND', `the TPM at ${context.where} cannot create the ${hierarchy} storage key that parents ${context.path} (${tpmFailureOf(error)?.responseCode.name ?? 'error'}): check that the ${hierarchy} hierarchy is enabled`, { cause: error });
  }
  return error;
}

export function loadError(error: unknown, context: { readonly parent: number; readonly where: string; readonly path: string }): unknown {
  const failure = tpmFailureOf(error);
  if (failure === undefined) return error;
  const { where, path } = context;
  const parent = hex8(context.parent);
  if (context.parent >>> 24 === TPM_HT.PERSISTENT && isMissingObject(error, 1)) {
    return new SignerError('TPM_PARENT_NOT_FOUND', `the parent key ${parent} of ${path} is not in the TPM at ${where}: make it persistent again (tpm2_evictcontrol) or use the TPM the key was made on`, { cause: error });
  }
  if (isSignerError(error, 'TPM_AUTH_FAILED')) {
    return new SignerError('TPM_AUTH_FAILED', `the parent key ${parent} of ${path} has a password, which is not supported: use a parent without a password`, { cause: error });
  }
  if (isSignerError(error, 'TPM_COMMAND_FAILED')) {
    return new SignerError('TPM_KEYFILE_INVALID', `the TPM at ${where} refuses to load ${path} under parent ${parent} (${failure.responseCode.name}): the key was made on another TPM, or this TPM was cleared since`, { cause: error });
  }
  return error;
}

export interface SignErrorContext {
  readonly where: string;
  /** The key's secret-free name (a path or handle:0x...). */
  readonly description: string;
  readonly passwordGiven: boolean;
  readonly persistent: boolean;
  readonly handle: number;
}

export function signError(error: unknown, context: SignErrorContext): unknown {
  const { where, description } = context;
  if (isSignerError(error, 'TPM_AUTH_FAILED')) {
    const message = context.passwordGiven
      ? `the password for the TPM key ${description} is wrong; each wrong password counts toward the TPM's dictionary-attack lockout, so it is not tried again: check --tpm-key-password or ${TPM_KEY_PASSWORD_ENV_VAR}`
      : `the TPM key ${description} needs a password but none was given (the key file says emptyAuth, or --no-tpm-key-password): pass --tpm-key-password or set ${TPM_KEY_PASSWORD_ENV_VAR}`;
    return new SignerError('TPM_AUTH_FAILED', message, { cause: error });
  }
  if (isSignerError(error, 'TPM_LOCKOUT')) {
    return new SignerError('TPM_LOCKOUT', `the TPM at ${where} is in dictionary-attack lockout after too many wrong passwords and refuses to use ${description}: wait for the lockout to expire, or clear it with tpm2_dictionarylockout --clear-lockout`, { cause: error });
  }
  if (context.persistent && isMissingObject(error, 1)) {
    return new SignerError('KEY_NOT_FOUND', `there is no key at ${handleText(context.handle)} in the TPM at ${where} any more: list persistent keys with tpm2_getcap handles-persistent`, { cause: error });
  }
  const failure = tpmFailureOf(error);
  if (failure !== undefined && !isMissingObject(error, 1)) {
    return new SignerError('TPM_COMMAND_FAILED', `the TPM at ${where} refused to sign with ${description}: ${failure.responseCode.text}`, { cause: error });
  }
  return error;
}

/** The TPM was not reached, so an object it holds may still be there to flush later. */
export function isConnectionFailure(error: unknown): boolean {
  return isSignerError(error, 'TPM_TRANSPORT_FAILED') || isSignerError(error, 'TPM_UNAVAILABLE');
}

/** The TPM says the object behind handle number `position` does not exist (any more). */
export function isMissingObject(error: unknown, position: number): boolean {
  const decoded = tpmFailureOf(error)?.responseCode;
  if (decoded === undefined) return false;
  if (decoded.base === TPM_RC.REFERENCE_H0 + position - 1) return true;
  return decoded.base === TPM_RC.HANDLE && (decoded.handle === position || decoded.handle === undefined);
}

export function hierarchyName(handle: number): string {
  switch (handle) {
    case TPM_RH.OWNER:
      return 'owner';
    case TPM_RH.ENDORSEMENT:
      return 'endorsement';
    case TPM_RH.PLATFORM:
      return 'platform';
    case TPM_RH.NULL:
      return 'null';
    default:
      return hex8(handle);
  }
}

export function hex8(handle: number): string {
  return `0x${(handle >>> 0).toString(16).padStart(8, '0')}`;
}

export function handleText(handle: number): string {
  return `handle:${hex8(handle)}`;
}
