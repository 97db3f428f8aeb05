import { X509Certificate, type KeyObject } from 'node:crypto';
import type { DebugLog } from '../../debug.js';
import { SignerError } from '../../errors.js';
import { rawEcdsaToDer } from '../ecdsa-signature.js';
import type { SecretIO, SecretSpec } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import type { KeySource, SignDigest } from '../types.js';
import { sourcePublicKeyOf } from '../public-key.js';
import { ckrOf, isTokenGone, tokenFailure } from './errors.js';
import { describePrivateKey, privateKeyAttributes, type PrivateKeyInfo } from './key.js';
import { matchingTokens } from './lookup.js';
import type { LoadedModule } from './module.js';
import type { ModuleSearch } from './module-path.js';
import { planSignature, type SignPlan } from './mechanism.js';
import { login } from './pin.js';
import { samePublicKey } from './public-key.js';
import { closeSession, describeToken, findObjects, forgetSession, objectUri, openSession, tokenUri, type Session, type TokenSlot } from './token.js';

/** How a PKCS#11 source is opened: secrets, module search, touch notice, debug log. */
export interface Pkcs11SourceOptions {
  readonly secretIO?: SecretIO;
  readonly moduleSearch?: ModuleSearch;
  /** A signature slower than this prints the touch notice (a YubiKey waiting for a touch). */
  readonly touchNoticeAfterMs?: number;
  readonly debug?: DebugLog;
}

const DEFAULT_TOUCH_NOTICE_AFTER_MS = 1000;
const EC_ORDER_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };
// Room for RSA-8192 (1024 bytes); ECDSA P-521 needs 132.
const SIGNATURE_BUFFER_BYTES = 1024;
// What a token answers at C_SignInit when it cannot do the mechanism tried for this key.
const MECHANISM_REFUSED = new Set(['CKR_MECHANISM_INVALID', 'CKR_MECHANISM_PARAM_INVALID', 'CKR_KEY_FUNCTION_NOT_PERMITTED', 'CKR_KEY_TYPE_INCONSISTENT']);

/** Everything a signer needs from the opening, which hands its session and PIN over. */
export interface SignerParts {
  readonly loaded: LoadedModule;
  /** The logged-in session the key was found on; the signer closes it. */
  readonly session: Session;
  readonly key: PrivateKeyInfo;
  readonly certificate: { readonly der: Uint8Array; readonly chain: Uint8Array[] } | undefined;
  readonly pin: {
    /** The user PIN, kept only with --reuse-pin (for context logins and re-logins); zeroed on close. */
    readonly kept: Buffer | undefined;
    readonly lock: { unlock(): void } | undefined;
    /** The PIN sources (flags, then the URIs, environment, terminal), for later logins. */
    readonly sources: (token: TokenSlot, purpose?: string) => SecretSpec;
  };
  readonly spec: Pkcs11KeySpec;
  readonly options: Pkcs11SourceOptions;
  readonly debug: DebugLog;
}

/**
 * The KeySource over an open, logged-in session. Signatures are queued (one operation per
 * session at a time) and made with the async C_Sign, so the event loop keeps running under
 * serve while a YubiKey waits for a touch. Keys with CKA_ALWAYS_AUTHENTICATE get a
 * context-specific login before every signature, with the kept PIN (--reuse-pin) or the PIN
 * sources again. A session that dies (token unplugged, session handle invalid) is reopened
 * once, with a new login. The mechanism list is read only if the first mechanism tried is
 * refused: most tokens take CKM_ECDSA / CKM_RSA_PKCS, and every call counts on a network HSM.
 */
export function createSigner(parts: SignerParts): KeySource {
  const { loaded, key, spec, options, pin, debug } = parts;
  const lib = loaded.lib;
  const description = objectUri(parts.session.token, key.object);
  // Some tokens hide the public half, and with a certificate it is not read: the certificate's
  // key stands in, and the check of every request signature against the certificate
  // (requestCredentials) proves the pairing.
  const publicKey: KeyObject | undefined = parts.certificate === undefined ? key.publicKey : new X509Certificate(parts.certificate.der).publicKey;
  if (publicKey === undefined) {
    throw new SignerError('KEY_NOT_FOUND', `the token does not show the public half of ${description} and no certificate was given: pass --certificate with the key's certificate`);
  }
  const ecOrderBits = EC_ORDER_BITS[publicKey.asymmetricKeyDetails?.namedCurve ?? ''];
  let mechanisms: ReadonlySet<number> | undefined;
  let mechanismsRead = false;

  let current = { session: parts.session, keyHandle: key.object.handle };
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const readMechanisms = (): boolean => {
    if (mechanismsRead) return false;
    mechanismsRead = true;
    try {
      mechanisms = new Set(lib.C_GetMechanismList(current.session.token.handle));
    } catch {
      mechanisms = undefined;
    }
    return mechanisms !== undefined;
  };

  const signOnce = async (planFor: () => SignPlan): Promise<{ raw: Buffer; plan: SignPlan }> => {
    const { session } = current;
    // Read a context PIN before C_SignInit, so no operation is left open during a prompt.
    const contextPin = !key.alwaysAuthenticate ? undefined : pin.kept ?? pin.sources(session.token, 'PIN (asked before every signature)');
    let plan = planFor();
    try {
      lib.C_SignInit(session.handle, { mechanism: plan.mechanism }, current.keyHandle);
    } catch (error) {
      // A refused first choice: the token's own mechanism list decides, once.
      if (mechanismsRead || !MECHANISM_REFUSED.has(ckrOf(error) ?? '') || !readMechanisms()) throw error;
      const listed = planFor();
      if (listed.mechanism === plan.mechanism) throw error;
      plan = listed;
      lib.C_SignInit(session.handle, { mechanism: plan.mechanism }, current.keyHandle);
    }
    if (contextPin !== undefined) {
      try {
        await login(session, 'context', contextPin, description, options.secretIO);
      } catch (error) {
        endSignOperation(session);
        throw error;
      }
    }
    const raw = await signAsync(session, plan.input, () => spec.touchNotice?.(`touch your key: ${describeToken(session.token)} is waiting for a touch to sign`), options.touchNoticeAfterMs ?? DEFAULT_TOUCH_NOTICE_AFTER_MS);
    return { raw, plan };
  };

  const signAsync = (session: Session, input: Buffer, onSlow: () => void, slowAfterMs: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(onSlow, slowAfterMs);
      lib.C_Sign(session.handle, input, Buffer.alloc(SIGNATURE_BUFFER_BYTES), (error, signature) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(Buffer.from(signature));
      });
    });

  const reopen = async (): Promise<void> => {
    const token = current.session.token;
    closeSession(current.session);
    const [again, twice] = matchingTokens(loaded, tokenUri(token)).matching;
    if (again === undefined || twice !== undefined) {
      throw new SignerError('PKCS11_DEVICE_ERROR', `${describeToken(token)} is gone (unplugged or reset) and did not come back: reconnect it and try again`);
    }
    // The old session's login went with it.
    loaded.loggedIn.delete(again.slotId);
    const session = openSession(loaded, again, description);
    try {
      // Unless the PIN is kept (--reuse-pin), this asks the PIN sources again: a new token session needs a new login.
      await login(session, 'user', pin.kept ?? pin.sources(again), description, options.secretIO);
      const candidates = findObjects(session, 'private', { id: key.object.id.length > 0 ? key.object.id : undefined, object: key.object.label !== '' ? key.object.label : undefined }, privateKeyAttributes(key.keyType))
        .map((object) => describePrivateKey(session, object, description, true))
        .filter((candidate) => candidate.publicKey === undefined || samePublicKey(candidate.publicKey, publicKey));
      const [found, another] = candidates;
      if (found === undefined || another !== undefined) {
        throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `after reconnecting, ${description} is no longer a single key on ${describeToken(again)}: check the token`);
      }
      current = { session, keyHandle: found.object.handle };
      debug(`reopened a session on ${describeToken(again)}`);
    } catch (error) {
      closeSession(session);
      throw tokenFailure(`reopening a session on ${describeToken(again)}`, description, error);
    }
  };

  const signNow = async (message: Uint8Array, digest: SignDigest): Promise<Uint8Array> => {
    if (closed) throw new SignerError('INTERNAL', `the key source ${description} is closed`);
    const planFor = (): SignPlan => planSignature(key.keyType, digest, message, mechanisms, description, ecOrderBits);
    let signed: { raw: Buffer; plan: SignPlan };
    try {
      signed = await signOnce(planFor);
    } catch (error) {
      if (!isTokenGone(error)) throw signFailure(error, description, planFor);
      debug(`signing failed (${error instanceof Error ? error.message : String(error)}); reopening the session`);
      await reopen();
      try {
        signed = await signOnce(planFor);
      } catch (retryError) {
        throw signFailure(retryError, description, planFor);
      }
    }
    return signed.plan.rawEcdsa ? rawEcdsaToDer(signed.raw) : new Uint8Array(signed.raw);
  };

  return {
    keyType: key.keyType,
    publicKey: sourcePublicKeyOf(publicKey),
    ...(parts.certificate !== undefined ? { certificate: parts.certificate.der, chain: parts.certificate.chain } : {}),
    description,
    sign(message, digest = 'SHA256') {
      const run = queue.then(() => signNow(message, digest));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      // C_Finalize (when this release makes it) closes every session: no call for that here.
      if (loaded.finalizesOnRelease()) forgetSession(current.session);
      else closeSession(current.session);
      pin.kept?.fill(0);
      pin.lock?.unlock();
      loaded.release();
    },
  };
}

/** C_Sign ends any signing operation (PKCS#11 5.2): clears one left active by a failed context login. */
function endSignOperation(session: Session): void {
  try {
    session.module.lib.C_Sign(session.handle, Buffer.alloc(0), Buffer.alloc(SIGNATURE_BUFFER_BYTES));
  } catch {
    // expected: the key was not unlocked; the operation is over either way
  }
}

function signFailure(error: unknown, description: string, planFor: () => SignPlan): SignerError {
  if (error instanceof SignerError) return error;
  const ckr = ckrOf(error);
  if (ckr === 'CKR_USER_NOT_LOGGED_IN') {
    return new SignerError('PKCS11_PIN_REQUIRED', `the token refused to sign with ${description} (${ckr}): the key needs a PIN before every signature; pass --reuse-pin or a PIN source`, { cause: error });
  }
  let mechanismName = 'the token';
  try {
    mechanismName = planFor().mechanismName;
  } catch {
    // no plan: the message names the token instead
  }
  return tokenFailure(`signing with ${mechanismName}`, description, error);
}
