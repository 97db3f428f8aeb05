import { X509Certificate } from 'node:crypto';
import type { Session } from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import { SignerError } from '../../errors.js';
import type { SecretIO } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import { tokenFailure } from './errors.js';
import type { LoadedModule } from './module.js';
import { login, pinSecretSpec } from './pin.js';
import {
  closeSession,
  describeToken,
  findObjects,
  libraryInfo,
  listTokens,
  objectUri,
  openSession,
  optionalAttribute,
  tokenMatches,
  tokenUri,
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

export function matchingTokens(loaded: LoadedModule, uri: Pkcs11Uri): { readonly all: TokenSlot[]; readonly matching: TokenSlot[] } {
  let all: TokenSlot[];
  try {
    all = listTokens(loaded);
  } catch (error) {
    throw tokenFailure(`listing the tokens of ${loaded.path}`, redactPkcs11Uri(uri), error);
  }
  const library = libraryInfo(loaded);
  return { all, matching: all.filter((token) => tokenMatches(uri, token, library)) };
}

export function noTokenError(uri: Pkcs11Uri, loaded: LoadedModule, all: readonly TokenSlot[]): SignerError {
  const present = all.length === 0 ? 'no initialized token is present' : `present: ${all.map((t) => formatPkcs11Uri(tokenUri(t))).join(', ')}`;
  return new SignerError('PKCS11_TOKEN_NOT_FOUND', `no token matches ${redactPkcs11Uri(uri)} in ${loaded.path} (${present}): plug the token in, or fix token=/serial= in the URI`);
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
 * matching token is searched without logging in; only when nothing is found and exactly one
 * token matches is a login made, to find certificates stored as private objects.
 */
export async function searchCertificates(loaded: LoadedModule, uri: Pkcs11Uri, context: LoginContext): Promise<CertificateSearch> {
  const where = redactPkcs11Uri(uri);
  const { all, matching } = matchingTokens(loaded, uri);
  if (matching.length === 0) throw noTokenError(uri, loaded, all);

  const found: CertificateOnToken[] = [];
  let kept: Session | undefined;
  for (const token of matching) {
    const session = openSession(token, where);
    let keep = false;
    try {
      const certificates = certificatesIn(session, token, uri, where);
      found.push(...certificates);
      keep = certificates.length > 0 && kept === undefined;
      if (keep) kept = session;
    } finally {
      if (!keep) closeSession(session);
    }
  }
  if (found.length > 0 || matching.length > 1) return { found, session: kept, loggedIn: false };

  const [token] = matching as [TokenSlot];
  const session = openSession(token, where);
  try {
    await login(session, token, 'user', pinSecretSpec(context.pin, context.uris, token), where, context.io);
    const certificates = certificatesIn(session, token, uri, where);
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

function certificatesIn(session: Session, token: TokenSlot, uri: Pkcs11Uri, where: string): CertificateOnToken[] {
  let objects: TokenObject[];
  try {
    objects = findObjects(session, 'cert', uri);
  } catch (error) {
    throw tokenFailure(`searching ${describeToken(token)} for certificates`, where, error);
  }
  const certificates: CertificateOnToken[] = [];
  for (const object of objects) {
    // Only X.509 certificates (CKC_X_509) can sign CreateSession; skip attribute certificates.
    const certificateType = optionalAttribute(object.object, pkcs11js.CKA_CERTIFICATE_TYPE);
    if (certificateType !== undefined && certificateType.some((byte) => byte !== 0)) continue;
    const der = optionalAttribute(object.object, pkcs11js.CKA_VALUE);
    if (der === undefined || der.length === 0) continue;
    certificates.push({ token, object, der: new Uint8Array(der), uri: objectUri(token, object) });
  }
  return certificates;
}

/** Every other certificate on the token: chain candidates, filtered by issuer later. */
export function otherCertificates(session: Session, token: TokenSlot, leaf: Uint8Array, where: string): Uint8Array[] {
  const leafBuffer = Buffer.from(leaf);
  return certificatesIn(session, token, {}, where)
    .map((certificate) => certificate.der)
    .filter((der) => !leafBuffer.equals(der));
}

export function parseCertificate(certificate: CertificateOnToken): X509Certificate {
  try {
    return new X509Certificate(certificate.der);
  } catch (cause) {
    throw new SignerError('CERT_INVALID', `the certificate object ${certificate.uri} does not hold a valid X.509 certificate: replace it on the token`, { cause });
  }
}
