import type * as Pkcs11js from 'pkcs11js';
import { loadPkcs11Binding, type Pkcs11Binding } from '../keys/pkcs11/binding.js';
import { SignerError } from '../errors.js';
import { readSecret, type SecretIO } from '../keys/secret.js';
import type { Pkcs11KeySpec } from '../keys/spec.js';
import { acquireModule, type LoadedModule } from '../keys/pkcs11/module.js';
import { matchingTokens, noTokenError } from '../keys/pkcs11/lookup.js';
import { resolveModulePath, type ModuleSearch } from '../keys/pkcs11/module-path.js';
import { slotIdOf, type TokenSlot } from '../keys/pkcs11/token.js';
import { pinSecretSpec, pinTriesNote } from '../keys/pkcs11/pin.js';
import { formatPkcs11Uri, redactPkcs11Uri, type Pkcs11Uri } from '../keys/pkcs11/uri.js';

/**
 * The token side of `enroll`: the shared module (src/keys/pkcs11/module.ts), the one token the
 * URI names, a read-write session and one login. The signing path's session code is kept out
 * of this on purpose: it opens read-only sessions and never creates objects. The login is
 * recorded on the shared module, so the key source enroll opens next signs without a second PIN.
 */
export interface TokenSession {
  readonly lib: Pkcs11js.PKCS11;
  readonly session: Buffer;
  readonly modulePath: string;
  readonly token: { readonly label: string; readonly manufacturer: string; readonly model: string; readonly serial: string };
  /** The token part of URIs printed for objects on it. */
  readonly tokenUri: Pkcs11Uri;
  /** The URI as given, PIN removed, for messages. */
  readonly where: string;
  /** Closes the session (the last one logs the process out) and releases the shared module. */
  close(): void;
}

export interface OpenTokenOptions {
  readonly uri: Pkcs11Uri;
  readonly modulePath?: string;
  readonly pin: Pkcs11KeySpec['pin'];
  readonly secretIO?: SecretIO;
  readonly moduleSearch?: ModuleSearch;
}

export async function openTokenSession(options: OpenTokenOptions): Promise<TokenSession> {
  const { uri } = options;
  const where = redactPkcs11Uri(uri);
  const module = resolveModulePath(options.modulePath, [uri], options.moduleSearch);
  // The module is shared with the key source enroll opens next (src/keys/pkcs11/module.ts): one
  // C_Initialize, and our login recorded there, so the source signs without asking again.
  const loaded = acquireModule(module);
  const lib = loaded.lib;
  let slotId: bigint | undefined;
  const endSession = (handle: Buffer): void => {
    try {
      lib.C_CloseSession(handle);
    } catch {
      // the token may be gone already
    }
    if (slotId === undefined) return;
    const left = (loaded.sessions.get(slotId) ?? 1) - 1;
    if (left > 0) {
      loaded.sessions.set(slotId, left);
    } else {
      // Closing a token's last session logs the application out (PKCS#11 5.6).
      loaded.sessions.delete(slotId);
      loaded.loggedIn.delete(slotId);
    }
  };
  let session: Buffer | undefined;
  try {
    const { slot, token } = pickToken(loaded, uri);
    try {
      session = lib.C_OpenSession(slot, binding().CKF_SERIAL_SESSION | binding().CKF_RW_SESSION);
    } catch (cause) {
      throw deviceError(`opening a read-write session on token "${token.label}"`, where, cause);
    }
    slotId = slotIdOf(slot);
    loaded.sessions.set(slotId, (loaded.sessions.get(slotId) ?? 0) + 1);
    await loginOnce(lib, slot, session, token, uri, options, where);
    loaded.loggedIn.add(slotId);
    const opened = session;
    return {
      lib,
      session: opened,
      modulePath: module.path,
      token,
      tokenUri: { token: token.label, manufacturer: token.manufacturer, model: token.model, serial: token.serial },
      where,
      close() {
        endSession(opened);
        loaded.release();
      },
    };
  } catch (error) {
    if (session !== undefined) endSession(session);
    loaded.release();
    throw error;
  }
}

export interface TokenState {
  readonly modulePath: string;
  readonly label: string;
  readonly serial: string;
  /** CK_TOKEN_INFO flags, read without logging in. */
  readonly flags: number;
}

/**
 * The token the URI names and its flags (PIN count low, final try, locked), without a login:
 * for doctor, which must not spend a PIN try to find out how many are left.
 */
export function readTokenState(options: { readonly uri: Pkcs11Uri; readonly modulePath?: string; readonly moduleSearch?: ModuleSearch }): TokenState {
  const module = resolveModulePath(options.modulePath, [options.uri], options.moduleSearch);
  const loaded = acquireModule(module);
  try {
    const { slot, token } = pickToken(loaded, options.uri);
    return { modulePath: module.path, label: token.label, serial: token.serial, flags: loaded.lib.C_GetTokenInfo(slot).flags };
  } finally {
    loaded.release();
  }
}

/**
 * The one token the URI names, found as the signing path finds it (keys/pkcs11/lookup.ts): the
 * same matching, the same words when none matches, and the same smart-card hints when the
 * module reaches no token at all (pcscd down, no reader, no card).
 */
function pickToken(loaded: LoadedModule, uri: Pkcs11Uri): { slot: Buffer; token: TokenSession['token'] } {
  const { all, matching } = matchingTokens(loaded, uri);
  if (matching.length === 0) throw noTokenError(uri, loaded, all);
  if (matching.length > 1) {
    throw new SignerError('PKCS11_OBJECT_AMBIGUOUS', `${matching.length} tokens match ${redactPkcs11Uri(uri)} (${matching.map((c) => formatPkcs11Uri({ token: c.label, serial: c.serial })).join(', ')}): add token= or serial= to the URI so it names one`);
  }
  const [found] = matching as [TokenSlot];
  return { slot: found.handle, token: { label: found.label, manufacturer: found.manufacturer, model: found.model, serial: found.serial } };
}

/** One C_Login, never retried, the PIN zeroed after (as the signing path does, src/keys/pkcs11/pin.ts). */
async function loginOnce(lib: Pkcs11js.PKCS11, slot: Buffer, session: Buffer, token: TokenSession['token'], uri: Pkcs11Uri, options: OpenTokenOptions, where: string): Promise<void> {
  const describe = `token "${token.label}" (serial ${token.serial})`;
  const flags = lib.C_GetTokenInfo(slot).flags;
  if ((flags & binding().CKF_USER_PIN_LOCKED) !== 0) throw lockedError(describe);
  if ((flags & binding().CKF_PROTECTED_AUTHENTICATION_PATH) !== 0) {
    callLogin(lib, slot, session, undefined, describe, where);
    return;
  }
  const pin = await readSecret(pinSecretSpec(options.pin, [uri], token), options.secretIO);
  try {
    callLogin(lib, slot, session, pin, describe, where);
  } finally {
    pin.fill(0);
  }
}

function callLogin(lib: Pkcs11js.PKCS11, slot: Buffer, session: Buffer, pin: Buffer | undefined, describe: string, where: string): void {
  try {
    // pkcs11js takes the PIN only as a string; it lives for this call only.
    lib.C_Login(session, binding().CKU_USER, pin?.toString('utf8'));
  } catch (cause) {
    const ckr = ckrOf(cause);
    if (ckr === 'CKR_USER_ALREADY_LOGGED_IN') return;
    let flags = 0;
    try {
      flags = lib.C_GetTokenInfo(slot).flags;
    } catch {
      // the flags only refine the message
    }
    if (ckr === 'CKR_PIN_LOCKED' || (ckr === 'CKR_PIN_INCORRECT' && (flags & binding().CKF_USER_PIN_LOCKED) !== 0)) throw lockedError(describe);
    if (ckr === 'CKR_PIN_INCORRECT') {
      throw new SignerError('PKCS11_PIN_INCORRECT', `wrong PIN for ${describe} (${ckr}; ${pinTriesNote(flags)}): it was not retried; check the PIN and its source, then run again`, { cause });
    }
    if (ckr === 'CKR_PIN_LEN_RANGE' || ckr === 'CKR_PIN_INVALID') {
      throw new SignerError('PKCS11_PIN_INCORRECT', `the PIN for ${describe} is not a valid PIN for this token (${ckr}): check its length and characters, and that the PIN source holds only the PIN`, { cause });
    }
    throw deviceError(`logging in to ${describe}`, where, cause);
  }
}

function lockedError(describe: string): SignerError {
  return new SignerError('PKCS11_PIN_LOCKED', `the user PIN of ${describe} is blocked, so no key can be generated on it: unblock it with the PUK or SO PIN (YubiKey: ykman piv access unblock-pin), then try again`);
}

export function deviceError(action: string, where: string, cause: unknown): SignerError {
  if (cause instanceof SignerError) return cause;
  return new SignerError('PKCS11_DEVICE_ERROR', `${action} failed for ${where} (${ckrOf(cause) ?? firstLine(cause)}): check the token with \`roles-anywhere-signer list\` and retry with --debug`, { cause });
}

/** Handles of the objects whose attributes equal the template's (C_FindObjects, bounded). */
export function findObjectHandles(token: TokenSession, template: Pkcs11js.Template): Buffer[] {
  const { lib, session } = token;
  lib.C_FindObjectsInit(session, template);
  try {
    const found: Buffer[] = [];
    // Bounded: a token lists at most a few thousand objects; stop at 10000 to stay finite.
    for (let round = 0; round < 100; round++) {
      const batch = lib.C_FindObjects(session, 100);
      found.push(...batch);
      if (batch.length < 100) break;
    }
    return found;
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

/** One attribute or undefined when the token will not show it (sensitive, absent). */
export function readAttribute(token: TokenSession, object: Buffer, type: number): Buffer | undefined {
  try {
    const value = token.lib.C_GetAttributeValue(token.session, object, [{ type }])[0]?.value;
    return Buffer.isBuffer(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function readBoolean(token: TokenSession, object: Buffer, type: number): boolean | undefined {
  const value = readAttribute(token, object, type);
  return value === undefined || value.length === 0 ? undefined : value[0] !== 0;
}

/** The PKCS#11 return value name at the start of a pkcs11js error message. */
export function ckrOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return /^(CKR_[A-Z0-9_]+)/.exec(error.message)?.[1];
}

function firstLine(cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).split('\n')[0] ?? '';
}

/** The pkcs11js binding, loaded on first use (a clear PKCS11_UNAVAILABLE error when it is not installed). */
function binding(): Pkcs11Binding {
  return loadPkcs11Binding();
}
