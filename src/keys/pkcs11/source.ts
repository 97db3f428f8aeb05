import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Session } from 'graphene-pk11';
import { silent, type DebugLog } from '../../debug.js';
import { assembleChain } from '../../certs/chain.js';
import { SignerError } from '../../errors.js';
import { rawEcdsaToDer } from '../ecdsa-signature.js';
import { publicKeyMatchesCertificate } from '../match.js';
import { loadNativeAddon, lockSecret } from '../../native.js';
import type { SecretIO, SecretSpec } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import { refuseMlDsaCertificateInHardware } from '../mldsa/hardware.js';
import { sourcePublicKeyOf } from '../public-key.js';
import type { KeySource, SignDigest } from '../types.js';
import { ckrOf, isTokenGone, tokenFailure } from './errors.js';
import { describePrivateKey, type PrivateKeyInfo } from './key.js';
import {
  matchingTokens,
  noTokenError,
  otherCertificates,
  parseCertificate,
  parseUriOption,
  searchCertificates,
  type CertificateOnToken,
  type LoginContext,
} from './lookup.js';
import { planSignature, type SignPlan } from './mechanism.js';
import { acquireModule, type LoadedModule } from './module.js';
import { resolveModulePath, type ModuleSearch } from './module-path.js';
import { login, pinSecretSpec } from './pin.js';
import { samePublicKey } from './public-key.js';
import {
  closeSession,
  describeToken,
  findObjects,
  objectUri,
  openSession,
  tokenUri,
  type TokenObject,
  type TokenSlot,
} from './token.js';
import { formatPkcs11Uri, hasTokenAttributes, redactPkcs11Uri, type Pkcs11Uri } from './uri.js';

/** Side effects and tuning, passed in by tests; the CLI uses the defaults. */
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

/**
 * Opens a private key on a PKCS#11 token (and its certificate, when given as a pkcs11: URI).
 *
 * One login per source: the user PIN is asked once, here; signatures reuse the session.
 * Keys with CKA_ALWAYS_AUTHENTICATE get a context-specific login before every signature, with
 * the user PIN when `reusePin` is set, else from the PIN sources again. A session that dies
 * (token unplugged, session handle invalid) is reopened once, with a new login.
 */
export async function openPkcs11KeySource(spec: Pkcs11KeySpec, options: Pkcs11SourceOptions = {}): Promise<KeySource> {
  const debug = options.debug ?? silent;
  const keyUri = spec.keyUri === undefined ? undefined : parseUriOption(spec.keyUri, '--private-key');
  const certificateUri = spec.certificateUri === undefined ? undefined : parseUriOption(spec.certificateUri, '--certificate');
  if (keyUri === undefined && certificateUri === undefined) {
    throw new SignerError('USAGE', 'a PKCS#11 key needs --private-key pkcs11:... or --certificate pkcs11:... (the key is then found by the certificate\'s id)');
  }
  checkUriTypes(keyUri, certificateUri);

  const module = resolveModulePath(spec.modulePath, [keyUri, certificateUri].filter((uri) => uri !== undefined), options.moduleSearch);
  debug(`PKCS#11 module ${module.path} (from ${module.origin})`);
  const loaded = acquireModule(module);
  const context: LoginContext = { pin: spec.pin, uris: [keyUri, certificateUri], io: options.secretIO };
  const where = redactPkcs11Uri((keyUri ?? certificateUri) as Pkcs11Uri);
  // Sessions to close if opening fails; on success the signer owns the one left.
  const sessions = new Set<Session>();
  let keptPin: Buffer | undefined;
  let keptPinLock: { unlock(): void } | undefined;
  try {
    let certificate: CertificateOnToken | undefined;
    let chain: Uint8Array[] | undefined;
    let certificateSession: Session | undefined;
    if (certificateUri !== undefined) {
      const search = await searchCertificates(loaded, certificateUri, context);
      certificateSession = search.session;
      if (certificateSession !== undefined) sessions.add(certificateSession);
      certificate = exactlyOneCertificate(certificateUri, search.found);
      parseCertificate(certificate);
      refuseMlDsaCertificateInHardware(certificate.der, 'pkcs11', certificate.uri);
      debug(`certificate ${certificate.uri}`);
      if (certificateSession !== undefined) {
        // Only certificates that really issue the leaf: never the token's unrelated ones.
        chain = assembleChain(certificate.der, otherCertificates(certificateSession, certificate.token, certificate.der, certificate.uri));
      }
    }

    const token = keyToken(loaded, keyUri, certificate);
    let session: Session;
    if (certificateSession !== undefined && certificate?.token.slotId === token.slotId) {
      session = certificateSession;
    } else {
      if (certificateSession !== undefined) {
        closeSession(certificateSession);
        sessions.delete(certificateSession);
      }
      session = openSession(token, where);
      sessions.add(session);
    }

    keptPin = await login(session, token, 'user', pinSecretSpec(spec.pin, context.uris, token), where, options.secretIO, spec.reusePin);
    // A PIN kept for --reuse-pin lives as long as the process (hours under serve): keep it out
    // of swap where the memlock limit allows.
    if (keptPin !== undefined) keptPinLock = lockSecret(loadNativeAddon(), keptPin);
    const key = findPrivateKey(session, token, keyUri, certificate);
    debug(`private key ${objectUri(token, key.object)} (${key.keyType}${key.alwaysAuthenticate ? ', PIN before every signature' : ''})`);
    const pinFor = (forToken: TokenSlot, purpose?: string): SecretSpec => pinSecretSpec(spec.pin, context.uris, forToken, purpose);
    return createSigner({ loaded, token, session, key, certificate, chain, spec, options, keptPin, keptPinLock, pinFor, debug });
  } catch (error) {
    keptPin?.fill(0);
    keptPinLock?.unlock();
    for (const session of sessions) closeSession(session);
    loaded.release();
    throw error;
  }
}

function checkUriTypes(keyUri: Pkcs11Uri | undefined, certificateUri: Pkcs11Uri | undefined): void {
  if (certificateUri?.type !== undefined && certificateUri.type !== 'cert') {
    throw new SignerError('USAGE', `--certificate ${redactPkcs11Uri(certificateUri)} names type=${certificateUri.type}: use type=cert, or leave type out`);
  }
  if (keyUri?.type === 'secret-key' || keyUri?.type === 'data') {
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `--private-key ${redactPkcs11Uri(keyUri)} names a ${keyUri.type} object; signing needs a private key: use type=private, or leave type out`);
  }
}

function exactlyOneCertificate(uri: Pkcs11Uri, found: readonly CertificateOnToken[]): CertificateOnToken {
  const [first, second] = found;
  if (first === undefined) {
    throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `no certificate matches ${redactPkcs11Uri(uri)}: run \`roles-anywhere-signer list\` to see the certificates on your tokens as URIs`);
  }
  if (second !== undefined) {
    throw new SignerError('PKCS11_OBJECT_AMBIGUOUS', `${redactPkcs11Uri(uri)} matches ${found.length} certificates: use one of ${found.map((c) => c.uri).join(' or ')}`);
  }
  return first;
}

/**
 * The token to look for the key on: the certificate's, unless the key URI names tokens of
 * its own (then exactly one of them, preferring the certificate's).
 */
function keyToken(loaded: LoadedModule, keyUri: Pkcs11Uri | undefined, certificate: CertificateOnToken | undefined): TokenSlot {
  if (keyUri === undefined || (certificate !== undefined && !hasTokenAttributes(keyUri))) {
    if (certificate === undefined) throw new SignerError('INTERNAL', 'no key URI and no certificate to find the key by');
    return certificate.token;
  }
  const { all, matching } = matchingTokens(loaded, keyUri);
  const withCertificate = matching.find((token) => token.slotId === certificate?.token.slotId);
  if (withCertificate !== undefined) return withCertificate;
  const [first, second] = matching;
  if (first === undefined) throw noTokenError(keyUri, loaded, all);
  if (second !== undefined) {
    throw new SignerError('PKCS11_OBJECT_AMBIGUOUS', `--private-key ${redactPkcs11Uri(keyUri)} matches ${matching.length} tokens, and a PIN is only tried on one: add one of ${matching.map((t) => formatPkcs11Uri(tokenUri(t))).join(' or ')}`);
  }
  return first;
}

/**
 * The key by the key URI, else by the certificate's CKA_ID (its label when it has no id);
 * exactly one, and it must be the certificate's key.
 */
function findPrivateKey(session: Session, token: TokenSlot, keyUri: Pkcs11Uri | undefined, certificate: CertificateOnToken | undefined): PrivateKeyInfo {
  const byUri = keyUri !== undefined && (keyUri.id !== undefined || keyUri.object !== undefined);
  const match = byUri
    ? { id: keyUri.id, object: keyUri.object }
    : certificate !== undefined && certificate.object.id.length > 0
      ? { id: certificate.object.id }
      : { object: certificate?.object.label };
  const where = keyUri !== undefined ? redactPkcs11Uri(keyUri) : `the key of ${certificate?.uri ?? ''}`;
  let objects: TokenObject[];
  try {
    objects = findObjects(session, 'private', match);
  } catch (error) {
    throw tokenFailure(`searching ${describeToken(token)} for private keys`, where, error);
  }
  const [first, second] = objects;
  if (first === undefined) {
    throw new SignerError('PKCS11_OBJECT_NOT_FOUND', byUri || certificate === undefined
      ? `no private key matches ${where} on ${describeToken(token)} (searched after login): run \`roles-anywhere-signer list --login\` to see the keys as URIs`
      : `the certificate ${certificate.uri} has no private key beside it (no private key with its ${certificate.object.id.length > 0 ? 'CKA_ID' : 'label'}): pass --private-key pkcs11:... naming its key`);
  }
  if (second !== undefined) {
    // Ambiguity is the problem to report, not the type of whichever candidate comes first; a
    // key of a type the service cannot use is simply not the certificate's.
    const belonging = certificate === undefined ? [] : objects.flatMap((object) => usableKey(session, token, object))
      .filter((key) => key.publicKey !== undefined && publicKeyMatchesCertificate(key.publicKey, certificate.der));
    const [only, another] = belonging;
    if (only !== undefined && another === undefined) return only;
    throw new SignerError('PKCS11_OBJECT_AMBIGUOUS', `${where} matches ${objects.length} private keys: use one of ${objects.map((object) => objectUri(token, object)).join(' or ')}`);
  }
  const key = describePrivateKey(session, first, objectUri(token, first));
  if (certificate !== undefined && key.publicKey !== undefined && !publicKeyMatchesCertificate(key.publicKey, certificate.der)) {
    throw new SignerError('CERT_KEY_MISMATCH', `the private key ${objectUri(token, key.object)} does not belong to the certificate ${certificate.uri} (their public keys differ): pass the key that was certified`);
  }
  return key;
}

function usableKey(session: Session, token: TokenSlot, object: TokenObject): PrivateKeyInfo[] {
  try {
    return [describePrivateKey(session, object, objectUri(token, object))];
  } catch (error) {
    if (error instanceof SignerError && error.code === 'KEY_TYPE_UNSUPPORTED') return [];
    throw error;
  }
}

interface SignerParts {
  readonly loaded: LoadedModule;
  readonly token: TokenSlot;
  readonly session: Session;
  readonly key: PrivateKeyInfo;
  readonly certificate: CertificateOnToken | undefined;
  readonly chain: Uint8Array[] | undefined;
  readonly spec: Pkcs11KeySpec;
  readonly options: Pkcs11SourceOptions;
  /** The user PIN, kept only with --reuse-pin (for context logins and re-logins); zeroed on close. */
  readonly keptPin: Buffer | undefined;
  readonly keptPinLock: { unlock(): void } | undefined;
  /** The PIN sources (flags, then the URIs, environment, terminal), for later logins. */
  readonly pinFor: (token: TokenSlot, purpose?: string) => SecretSpec;
  readonly debug: DebugLog;
}

function createSigner(parts: SignerParts): KeySource {
  const { loaded, token, key, spec, options, keptPin, keptPinLock, pinFor, debug } = parts;
  const description = objectUri(token, key.object);
  // Some tokens hide the public half; the certificate's key then stands in, and the check of
  // every request signature against the certificate (requestCredentials) proves the pairing.
  const publicKey: KeyObject | undefined = key.publicKey ?? (parts.certificate === undefined ? undefined : new X509Certificate(parts.certificate.der).publicKey);
  if (publicKey === undefined) {
    throw new SignerError('KEY_NOT_FOUND', `the token does not show the public half of ${description} and no certificate was given: pass --certificate with the key's certificate`);
  }
  const ecOrderBits = EC_ORDER_BITS[publicKey.asymmetricKeyDetails?.namedCurve ?? ''];
  let mechanisms: ReadonlySet<number> | undefined;
  try {
    mechanisms = new Set(loaded.lib.C_GetMechanismList(token.slot.handle));
  } catch {
    mechanisms = undefined;
  }

  let current = { token, session: parts.session, keyObject: key.object.object };
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const signOnce = async (plan: SignPlan): Promise<Buffer> => {
    const { session, keyObject } = current;
    // Read a context PIN before C_SignInit, so no operation is left open during a prompt.
    const contextPin = !key.alwaysAuthenticate
      ? undefined
      : keptPin ?? pinFor(current.token, 'PIN (asked before every signature)');
    loaded.lib.C_SignInit(session.handle, { mechanism: plan.mechanism }, keyObject.handle);
    if (contextPin !== undefined) {
      try {
        await login(session, current.token, 'context', contextPin, description, options.secretIO);
      } catch (error) {
        endSignOperation(session);
        throw error;
      }
    }
    return signAsync(session, plan.input, () => spec.touchNotice?.(`touch your key: ${describeToken(current.token)} is waiting for a touch to sign`), options.touchNoticeAfterMs ?? DEFAULT_TOUCH_NOTICE_AFTER_MS);
  };

  const signAsync = (session: Session, input: Buffer, onSlow: () => void, slowAfterMs: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(onSlow, slowAfterMs);
      loaded.lib.C_Sign(session.handle, input, Buffer.alloc(SIGNATURE_BUFFER_BYTES), (error, signature) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(Buffer.from(signature));
      });
    });

  const reopen = async (): Promise<void> => {
    closeSession(current.session);
    const [again, twice] = matchingTokens(loaded, tokenUri(token)).matching;
    if (again === undefined || twice !== undefined) {
      throw new SignerError('PKCS11_DEVICE_ERROR', `${describeToken(token)} is gone (unplugged or reset) and did not come back: reconnect it and try again`);
    }
    const session = openSession(again, description);
    try {
      // Unless the PIN is kept (--reuse-pin), this asks the PIN sources again: a new token session needs a new login.
      await login(session, again, 'user', keptPin ?? pinFor(again), description, options.secretIO);
      const candidates = findObjects(session, 'private', { id: key.object.id.length > 0 ? key.object.id : undefined, object: key.object.label !== '' ? key.object.label : undefined })
        .map((object) => describePrivateKey(session, object, description))
        .filter((candidate) => candidate.publicKey === undefined || samePublicKey(candidate.publicKey, publicKey));
      const [found, another] = candidates;
      if (found === undefined || another !== undefined) {
        throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `after reconnecting, ${description} is no longer a single key on ${describeToken(again)}: check the token`);
      }
      current = { token: again, session, keyObject: found.object.object };
      debug(`reopened a session on ${describeToken(again)}`);
    } catch (error) {
      closeSession(session);
      throw tokenFailure(`reopening a session on ${describeToken(again)}`, description, error);
    }
  };

  const signNow = async (message: Uint8Array, digest: SignDigest): Promise<Uint8Array> => {
    if (closed) throw new SignerError('INTERNAL', `the key source ${description} is closed`);
    const plan = planSignature(key.keyType, digest, message, mechanisms, description, ecOrderBits);
    let raw: Buffer;
    try {
      raw = await signOnce(plan);
    } catch (error) {
      if (!isTokenGone(error)) throw signFailure(error, description, plan);
      debug(`signing failed (${error instanceof Error ? error.message : String(error)}); reopening the session`);
      await reopen();
      try {
        raw = await signOnce(plan);
      } catch (retryError) {
        throw signFailure(retryError, description, plan);
      }
    }
    return plan.rawEcdsa ? rawEcdsaToDer(raw) : new Uint8Array(raw);
  };

  return {
    keyType: key.keyType,
    publicKey: sourcePublicKeyOf(publicKey),
    ...(parts.certificate !== undefined ? { certificate: parts.certificate.der } : {}),
    ...(parts.chain !== undefined ? { chain: parts.chain } : {}),
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
      closeSession(current.session);
      keptPin?.fill(0);
      keptPinLock?.unlock();
      loaded.release();
    },
  };
}

/** C_Sign ends any signing operation (PKCS#11 5.2): clears one left active by a failed context login. */
function endSignOperation(session: Session): void {
  try {
    session.lib.C_Sign(session.handle, Buffer.alloc(0), Buffer.alloc(SIGNATURE_BUFFER_BYTES));
  } catch {
    // expected: the key was not unlocked; the operation is over either way
  }
}

function signFailure(error: unknown, description: string, plan: SignPlan): SignerError {
  if (error instanceof SignerError) return error;
  const ckr = ckrOf(error);
  if (ckr === 'CKR_USER_NOT_LOGGED_IN') {
    return new SignerError('PKCS11_PIN_REQUIRED', `the token refused to sign with ${description} (${ckr}): the key needs a PIN before every signature; pass --reuse-pin or a PIN source`, { cause: error });
  }
  return tokenFailure(`signing with ${plan.mechanismName}`, description, error);
}
