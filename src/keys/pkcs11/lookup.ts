import { X509Certificate } from 'node:crypto';
import { MAX_CHAIN_CERTIFICATES } from '../../certs/chain.js';
import { SignerError } from '../../errors.js';
import type { SecretIO } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import { CKA } from './constants.js';
import { ckrOf, tokenFailure } from './errors.js';
import type { LoadedModule } from './module.js';
import { certificateNames } from './names.js';
import { login, pinSecretSpec } from './pin.js';
import {
  closeSession,
  describeToken,
  findHandles,
  findObjects,
  listTokens,
  needsSlotInfo,
  objectUri,
  openSession,
  readAttributes,
  searchTemplate,
  tokenMatches,
  tokenUri,
  type ObjectMatch,
  type Session,
  type TokenObject,
  type TokenSlot,
} from './token.js';
import { formatPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri, redactUnparsedPkcs11Uri, type Pkcs11Uri } from './uri.js';

/** Parses a URI given on the command line; the error names the flag and hides any PIN. */
export function parseUriOption(text: string, option: string): Pkcs11Uri {
  try {
    return parsePkcs11Uri(text);
  } catch (error) {
    if (error instanceof SignerError) {
      throw new SignerError(error.code, `${option} ${redactUnparsedPkcs11Uri(text)}: ${error.message}`);
    }
    throw error;
  }
}

/** How to log in when a search needs it; `pin` and the URIs give the PIN sources. */
export interface LoginContext {
  readonly pin: Pkcs11KeySpec['pin'];
  readonly uris: readonly (Pkcs11Uri | undefined)[];
  readonly io: SecretIO | undefined;
}

// What a module says when the PC/SC stack under it is down (ykcs11, OpenSC without pcscd).
const SMART_CARD_STACK_DOWN = new Set(['CKR_DEVICE_ERROR', 'CKR_GENERAL_ERROR', 'CKR_FUNCTION_FAILED', 'CKR_DEVICE_REMOVED', 'CKR_TOKEN_NOT_PRESENT']);

/** What to check when a module reaches no token at all: for smart cards, the PC/SC stack. */
export const NO_READER_HINT = 'for a smart card or YubiKey this usually means no reader is connected, pcscd is not running, or no card is inserted: check with `pcsc_scan` (or `systemctl status pcscd`), plug the key in, and try again';

/** The module's tokens; a module that cannot list any (the smart-card stack is down) says what to check. */
export function listTokensOrExplain(loaded: LoadedModule, withSlotInfo: boolean, where: string): TokenSlot[] {
  try {
    return listTokens(loaded, withSlotInfo);
  } catch (error) {
    const ckr = ckrOf(error);
    if (ckr !== undefined && SMART_CARD_STACK_DOWN.has(ckr)) {
      throw new SignerError('PKCS11_DEVICE_ERROR', `the PKCS#11 module ${loaded.path} cannot reach any token (${ckr}): ${NO_READER_HINT}`, { cause: error });
    }
    throw tokenFailure(`listing the tokens of ${loaded.path}`, where, error);
  }
}

export function matchingTokens(loaded: LoadedModule, uri: Pkcs11Uri): { readonly all: TokenSlot[]; readonly matching: TokenSlot[] } {
  const all = listTokensOrExplain(loaded, needsSlotInfo(uri), redactPkcs11Uri(uri));
  return { all, matching: all.filter((token) => tokenMatches(uri, token, () => loaded.library())) };
}

export function noTokenError(uri: Pkcs11Uri, loaded: LoadedModule, all: readonly TokenSlot[]): SignerError {
  if (all.length === 0) {
    return new SignerError('PKCS11_TOKEN_NOT_FOUND', `no token matches ${redactPkcs11Uri(uri)} in ${loaded.path} (no initialized token is present): ${NO_READER_HINT}`);
  }
  const present = `present: ${all.map((t) => formatPkcs11Uri(tokenUri(t))).join(', ')}`;
  // A smart card that is not the one named is usually another card in the reader, or the right one unplugged.
  const plug = isSmartCardModule(loaded.path) ? 'plug the card or YubiKey in (`pcsc_scan` shows what the readers see)' : 'plug the token in';
  return new SignerError('PKCS11_TOKEN_NOT_FOUND', `no token matches ${redactPkcs11Uri(uri)} in ${loaded.path} (${present}): ${plug}, or fix token=/serial= in the URI`);
}

/** Modules that reach cards through PC/SC (pcscd): YubiKey's ykcs11, OpenSC, CoolKey, CACKey. */
export function isSmartCardModule(modulePath: string): boolean {
  const name = modulePath.slice(modulePath.lastIndexOf('/') + 1).toLowerCase();
  return /ykcs11|opensc|coolkey|cackey/.test(name);
}

export interface CertificateOnToken {
  readonly token: TokenSlot;
  readonly object: TokenObject;
  readonly der: Uint8Array;
  readonly uri: string;
}

export interface CertificateSearch {
  readonly found: CertificateOnToken[];
  /** Open session on the token of the first match (logged in when `loggedIn`), for the caller to use or close. */
  readonly session: Session | undefined;
  readonly loggedIn: boolean;
}

/**
 * Certificates matching the URI (RFC 7512 plus draft-woodhouse-cert-best-practice 8.1): every
 * matching token is searched without logging in. Only when nothing is found, exactly one token
 * matches, and that token shows no certificate at all without a login (it keeps them as
 * private objects) is a login made: a token that shows its certificates publicly and has none
 * matching is told as such, without spending a PIN.
 */
export async function searchCertificates(loaded: LoadedModule, uri: Pkcs11Uri, context: LoginContext): Promise<CertificateSearch> {
  const where = redactPkcs11Uri(uri);
  const { all, matching } = matchingTokens(loaded, uri);
  if (matching.length === 0) throw noTokenError(uri, loaded, all);

  const found: CertificateOnToken[] = [];
  let kept: Session | undefined;
  let showsCertificates = false;
  for (const token of matching) {
    const session = openSession(loaded, token, where);
    let keep = false;
    try {
      const certificates = certificatesIn(session, uri, where);
      found.push(...certificates);
      keep = certificates.length > 0 && kept === undefined;
      if (keep) kept = session;
      else if (matching.length === 1 && hasSelector(uri)) showsCertificates = searchOrFail(session, 'cert', {}, where).length > 0;
    } finally {
      if (!keep) closeSession(session);
    }
  }
  if (found.length > 0 || matching.length > 1 || showsCertificates) return { found, session: kept, loggedIn: false };

  const [token] = matching as [TokenSlot];
  const session = openSession(loaded, token, where);
  try {
    await login(session, 'user', pinSecretSpec(context.pin, context.uris, token), where, context.io);
    const certificates = certificatesIn(session, uri, where);
    if (certificates.length === 0) {
      closeSession(session);
      return { found: [], session: undefined, loggedIn: false };
    }
    return { found: certificates, session, loggedIn: true };
  } catch (error) {
    closeSession(session);
    throw error;
  }
}

function hasSelector(uri: Pkcs11Uri): boolean {
  return uri.object !== undefined || uri.id !== undefined;
}

function searchOrFail(session: Session, type: TokenObject['type'], match: ObjectMatch, where: string): Buffer[] {
  try {
    return findHandles(session, searchTemplate(type, match));
  } catch (error) {
    throw tokenFailure(`searching ${describeToken(session.token)} for objects`, where, error);
  }
}

/**
 * False when a key URI's id= names nothing the token shows without a login (no certificate or
 * public key with that CKA_ID) while the token does show such objects: a login would spend a
 * PIN on a key that is not there. Only the id is telling: key pairs and their certificates
 * share a CKA_ID on every token, but not always a label (ykcs11 and OpenSC label a slot's
 * private key, public key and certificate differently), so a label alone never skips the login.
 */
export function mayHoldPrivateKey(session: Session, match: ObjectMatch, where: string): boolean {
  if (match.id === undefined) return true;
  const byId = { id: match.id };
  if (searchOrFail(session, 'public', byId, where).length > 0 || searchOrFail(session, 'cert', byId, where).length > 0) return true;
  return searchOrFail(session, 'public', {}, where).length === 0 && searchOrFail(session, 'cert', {}, where).length === 0;
}

function certificatesIn(session: Session, uri: ObjectMatch, where: string): CertificateOnToken[] {
  let objects: TokenObject[];
  try {
    objects = findObjects(session, 'cert', uri, [CKA.VALUE]);
  } catch (error) {
    throw tokenFailure(`searching ${describeToken(session.token)} for certificates`, where, error);
  }
  const certificates: CertificateOnToken[] = [];
  for (const object of objects) {
    const der = object.attributes.get(CKA.VALUE);
    if (der === undefined || der.length === 0) continue;
    certificates.push({ token: session.token, object, der: new Uint8Array(der), uri: objectUri(session.token, object) });
  }
  return certificates;
}

/**
 * The certificates on the token that may issue the leaf, up the chain: each step searches by
 * CKA_SUBJECT for the issuer name of the step below and reads only CKA_VALUE, so unrelated
 * certificates are never read. Stops at a self-signed certificate, when no issuer is on the
 * token, or after the chain limit. assembleChain then keeps only those that really issue it.
 */
export function issuersOnToken(session: Session, leaf: Uint8Array, where: string): Uint8Array[] {
  const candidates: Uint8Array[] = [];
  const searched = new Set<string>();
  let below = [leaf];
  for (let depth = 0; depth < MAX_CHAIN_CERTIFICATES && below.length > 0; depth++) {
    const next: Uint8Array[] = [];
    for (const certificate of below) {
      const names = certificateNames(certificate);
      if (names === undefined || Buffer.from(names.issuer).equals(names.subject)) continue;
      const key = Buffer.from(names.issuer).toString('base64');
      if (searched.has(key)) continue;
      searched.add(key);
      let handles: Buffer[];
      try {
        handles = findHandles(session, searchTemplate('cert', {}, [{ type: CKA.SUBJECT, value: Buffer.from(names.issuer) }]));
      } catch (error) {
        throw tokenFailure(`searching ${describeToken(session.token)} for the issuers of the certificate`, where, error);
      }
      for (const handle of handles) {
        const der = readAttributes(session, handle, [CKA.VALUE]).get(CKA.VALUE);
        if (der === undefined || der.length === 0 || Buffer.from(leaf).equals(der)) continue;
        candidates.push(new Uint8Array(der));
        next.push(new Uint8Array(der));
      }
    }
    below = next;
  }
  return candidates;
}

export function parseCertificate(certificate: CertificateOnToken): X509Certificate {
  try {
    return new X509Certificate(certificate.der);
  } catch (cause) {
    throw new SignerError('CERT_INVALID', `the certificate object ${certificate.uri} does not hold a valid X.509 certificate: replace it on the token`, { cause });
  }
}
