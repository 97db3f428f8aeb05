import { SignerError } from '../../errors.js';
import { readSecret, type SecretIO, type SecretSpec } from '../secret.js';
import { PIN_ENV_VAR, type Pkcs11KeySpec } from '../spec.js';
import { CKF, CKU } from './constants.js';
import { ckrOf, tokenFailure } from './errors.js';
import { currentTokenFlags, describeToken, isLoggedIn, type Session, type TokenSlot } from './token.js';
import type { Pkcs11Uri } from './uri.js';

/**
 * Where the user PIN comes from: the caller's value or source first, then the pin-value or
 * pin-source of the first URI that has one (key URI before certificate URI), then the
 * environment, then a prompt on /dev/tty (readSecret's order).
 */
export function pinSecretSpec(pin: Pkcs11KeySpec['pin'], uris: readonly (Pkcs11Uri | undefined)[], token: Pick<TokenSlot, 'label' | 'serial'>, purpose = 'PIN'): SecretSpec {
  // The first URI that says anything about the PIN decides, so the key URI's pin-source is
  // not overridden by a pin-value on the certificate URI.
  const fromUri = uris.find((uri) => uri?.pinValue !== undefined || uri?.pinSource !== undefined);
  const value = pin.value ?? (pin.source === undefined ? fromUri?.pinValue : undefined);
  const source = pin.source ?? fromUri?.pinSource;
  const envVar = pin.envVar ?? PIN_ENV_VAR;
  return {
    ...(value !== undefined ? { value } : {}),
    ...(value === undefined && source !== undefined ? { source } : {}),
    envVar,
    promptLabel: `${purpose} for ${describeToken(token)}`,
    missingCode: 'PKCS11_PIN_REQUIRED',
    missingHint: `set ${envVar}, add pin-source=file:/path (or pin-source=|command) to the URI, or run from a terminal`,
  };
}

export type PinPurpose = 'user' | 'context';

/**
 * C_Login with a PIN from `secret`, exactly once: a wrong PIN is reported, never retried, so a
 * mistake cannot use up a card's tries. A PIN read from the sources is zeroed here, unless
 * `keep` is set and the login succeeded: then it is returned and the caller must zero it. A PIN
 * passed in as a Buffer stays the caller's.
 *
 * pkcs11js takes the PIN as a JS string (it has no Buffer form); the string lives only for the
 * call and is never stored, logged or put into an error.
 */
export async function login(
  session: Session,
  purpose: PinPurpose,
  secret: SecretSpec | Buffer,
  where: string,
  io: SecretIO | undefined,
  keep = false,
): Promise<Buffer | undefined> {
  const { token } = session;
  const userType = purpose === 'user' ? CKU.USER : CKU.CONTEXT_SPECIFIC;
  if (purpose === 'user') {
    try {
      // Another session of this process may be logged in already: logins are per token.
      if (isLoggedIn(session)) return undefined;
    } catch (error) {
      throw tokenFailure(`reading the state of ${describeToken(token)}`, where, error);
    }
    // The token's flags as read when its slot was listed, moments ago.
    const { flags } = token;
    if ((flags & CKF.USER_PIN_LOCKED) !== 0) throw lockedError(token, where, 'CKF_USER_PIN_LOCKED');
    if ((flags & CKF.PROTECTED_AUTHENTICATION_PATH) !== 0) {
      // The PIN is typed on the reader's own keypad: C_Login without one.
      callLogin(session, userType, undefined, token, purpose, where);
      return undefined;
    }
  }
  if (Buffer.isBuffer(secret)) {
    callLogin(session, userType, secret, token, purpose, where);
    return undefined;
  }
  const pin = await readSecret(secret, io);
  let handedOver = false;
  try {
    // An empty PIN (Enter at the prompt, an empty file) is never right and would use up one of
    // a card's tries (a YubiKey has three): refused here, before the token sees it.
    if (pin.length === 0) throw emptyPinError(token, purpose, secret);
    callLogin(session, userType, pin, token, purpose, where);
    handedOver = keep;
    return keep ? pin : undefined;
  } finally {
    // Also after a failed login: the caller never saw this PIN, so nobody else can zero it.
    if (!handedOver) pin.fill(0);
  }
}

function callLogin(session: Session, userType: number, pin: Buffer | undefined, token: TokenSlot, purpose: PinPurpose, where: string): void {
  const { lib } = session.module;
  try {
    if (pin === undefined) lib.C_Login(session.handle, userType);
    else lib.C_Login(session.handle, userType, pin.toString('utf8'));
  } catch (error) {
    if (ckrOf(error) === 'CKR_USER_ALREADY_LOGGED_IN' && purpose === 'user') {
      session.module.loggedIn.add(token.slotId);
      return;
    }
    throw loginFailure(session, error, purpose, where);
  }
  if (purpose === 'user') session.module.loggedIn.add(token.slotId);
}

function emptyPinError(token: TokenSlot, purpose: PinPurpose, secret: SecretSpec): SignerError {
  const which = purpose === 'user' ? 'PIN' : 'PIN for the key (asked before every signature)';
  const from = secret.source !== undefined ? `its source (${secret.source.startsWith('|') ? 'a command' : 'a file'}) gave nothing` : 'nothing was typed';
  return new SignerError('PKCS11_PIN_REQUIRED', `the ${which} for ${describeToken(token)} is empty (${from}): it was not sent to the token, so no try was used; enter the PIN, or fix the PIN source`);
}

function lockedError(token: TokenSlot, where: string, reason: string): SignerError {
  return new SignerError(
    'PKCS11_PIN_LOCKED',
    `the user PIN of ${describeToken(token)} is blocked (${reason}), so ${where} cannot be used: unblock it with the PUK or SO PIN (YubiKey: ykman piv access unblock-pin), then try again`,
  );
}

/** What the token says after a failed login, in words. */
export function pinTriesNote(flags: number): string {
  if ((flags & CKF.USER_PIN_LOCKED) !== 0) return 'the PIN is now blocked';
  if ((flags & CKF.USER_PIN_FINAL_TRY) !== 0) return 'one try is left before the PIN blocks';
  if ((flags & CKF.USER_PIN_COUNT_LOW) !== 0) return 'the token reports few tries left';
  return 'the token does not say how many tries are left';
}

function loginFailure(session: Session, error: unknown, purpose: PinPurpose, where: string): SignerError {
  const { token } = session;
  const ckr = ckrOf(error);
  const which = purpose === 'user' ? 'PIN' : 'PIN for the key (asked before every signature)';
  let flags = 0;
  try {
    flags = currentTokenFlags(session.module, token);
  } catch {
    // the flags only refine the message
  }
  switch (ckr) {
    case 'CKR_PIN_INCORRECT':
      if ((flags & CKF.USER_PIN_LOCKED) !== 0) return lockedError(token, where, 'CKR_PIN_INCORRECT, and now CKF_USER_PIN_LOCKED');
      return new SignerError('PKCS11_PIN_INCORRECT', `wrong ${which} for ${describeToken(token)} (${ckr}; ${pinTriesNote(flags)}): it was not retried; check the PIN and its source, then run again`, { cause: error });
    case 'CKR_PIN_LEN_RANGE':
    case 'CKR_PIN_INVALID':
      return new SignerError('PKCS11_PIN_INCORRECT', `the ${which} for ${describeToken(token)} is not a valid PIN for this token (${ckr}): check its length and characters, and that the PIN source holds only the PIN`, { cause: error });
    case 'CKR_PIN_LOCKED':
      return lockedError(token, where, ckr);
    case 'CKR_PIN_EXPIRED':
      return new SignerError('PKCS11_PIN_INCORRECT', `the PIN of ${describeToken(token)} has expired (${ckr}): change it with the token's tools, then try again`, { cause: error });
    default:
      return tokenFailure(`logging in to ${describeToken(token)}`, where, error);
  }
}
