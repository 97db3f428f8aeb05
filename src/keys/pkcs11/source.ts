import { X509Certificate, type KeyObject } from 'node:crypto';
import { silent } from '../../debug.js';
import { assembleChain } from '../../certs/chain.js';
import { SignerError } from '../../errors.js';
import { publicKeyMatchesCertificate } from '../match.js';
import type { SecretSpec } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import { PKCS11_ML_DSA_REFUSAL, refuseMlDsaCertificate } from '../mldsa/hardware.js';
import type { KeySource, KeyType } from '../types.js';
import { tokenFailure } from './errors.js';
import { describePrivateKey, privateKeyAttributes, type PrivateKeyInfo } from './key.js';
import {
  issuersOnToken,
  matchingTokens,
  mayHoldPrivateKey,
  noTokenError,
  parseCertificate,
  parseUriOption,
  searchCertificates,
  type CertificateOnToken,
  type LoginContext,
} from './lookup.js';
import { acquireModule, type LoadedModule } from './module.js';
import { resolveModulePath } from './module-path.js';
import { login, pinSecretSpec } from './pin.js';
import { createSigner, type Pkcs11SourceOptions } from './signer.js';
export type { Pkcs11SourceOptions } from './signer.js';
import {
  closeSession,
  describeToken,
  findObjects,
  objectUri,
  openSession,
  tokenUri,
  type Session,
  type TokenObject,
  type TokenSlot,
} from './token.js';
import { formatPkcs11Uri, hasTokenAttributes, redactPkcs11Uri, type Pkcs11Uri } from './uri.js';

/** Side effects and tuning, passed in by tests; the CLI uses the defaults. */

/**
 * Opens a private key on a PKCS#11 token (and its certificate, when given as a pkcs11: URI).
 *
 * One login per source: the user PIN is asked once, here; signatures reuse the session (see
 * signer.ts). Public objects are searched before any login, so a URI that names nothing on
 * the token says so without asking for a PIN. Every step reads what it needs in one
 * attribute template: a credential-process makes about 25 PKCS#11 calls in all.
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
      refuseMlDsaCertificate(certificate.der, PKCS11_ML_DSA_REFUSAL, certificate.uri);
      debug(`certificate ${certificate.uri}`);
      if (certificateSession !== undefined) {
        // Only certificates that really issue the leaf: never the token's unrelated ones.
        chain = assembleChain(certificate.der, issuersOnToken(certificateSession, certificate.der, certificate.uri));
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
      session = openSession(loaded, token, where);
      sessions.add(session);
    }
    if (certificate === undefined && keyUri !== undefined && !mayHoldPrivateKey(session, keyUri, where)) {
      throw new SignerError('PKCS11_OBJECT_NOT_FOUND', `no key matches ${where} on ${describeToken(token)}: the token shows no certificate or public key with that id, so no PIN was asked; run \`roles-anywhere-signer list\` to see its objects as URIs`);
    }

    keptPin = await login(session, 'user', pinSecretSpec(spec.pin, context.uris, token), where, options.secretIO, spec.reusePin);
    // A PIN kept for --reuse-pin lives as long as the process (hours under serve): keep it out
    // of swap where the memlock limit allows.
    // (The addon's module loads only then: a one-shot run keeps no PIN.)
    if (keptPin !== undefined) {
      const { loadNativeAddon, lockSecret } = await import('../../native.js');
      keptPinLock = lockSecret(loadNativeAddon(), keptPin);
    }
    const key = findPrivateKey(session, token, keyUri, certificate);
    debug(`private key ${objectUri(token, key.object)} (${key.keyType}${key.alwaysAuthenticate ? ', PIN before every signature' : ''})`);
    const pinFor = (forToken: TokenSlot, purpose?: string): SecretSpec => pinSecretSpec(spec.pin, context.uris, forToken, purpose);
    return createSigner({
      loaded,
      session,
      key,
      certificate: certificate === undefined ? undefined : { der: certificate.der, chain: chain ?? [] },
      pin: { kept: keptPin, lock: keptPinLock, sources: pinFor },
      spec,
      options,
      debug,
    });
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
 * exactly one, and it must be the certificate's key. With a certificate, the key's public half
 * is not looked for: its type and curve (RSA: its modulus) are checked here, and the request
 * signature is verified against the certificate before it is sent (requestCredentials).
 */
function findPrivateKey(session: Session, token: TokenSlot, keyUri: Pkcs11Uri | undefined, certificate: CertificateOnToken | undefined): PrivateKeyInfo {
  const byUri = keyUri !== undefined && (keyUri.id !== undefined || keyUri.object !== undefined);
  const match = byUri
    ? { id: keyUri.id, object: keyUri.object }
    : certificate !== undefined && certificate.object.id.length > 0
      ? { id: certificate.object.id }
      : { object: certificate?.object.label };
  const where = keyUri !== undefined ? redactPkcs11Uri(keyUri) : `the key of ${certificate?.uri ?? ''}`;
  const certificateKey = certificate === undefined ? undefined : new X509Certificate(certificate.der).publicKey;
  const expected: KeyType | undefined = certificateKey === undefined ? undefined : certificateKey.asymmetricKeyType === 'rsa' ? 'RSA' : certificateKey.asymmetricKeyType === 'ec' ? 'EC' : undefined;
  let objects: TokenObject[];
  try {
    objects = findObjects(session, 'private', match, privateKeyAttributes(expected));
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
    const belonging = certificate === undefined ? [] : objects.flatMap((object) => usableKey(session, token, object, true))
      .filter((key) => key.publicKey !== undefined && publicKeyMatchesCertificate(key.publicKey, certificate.der));
    const [only, another] = belonging;
    if (only !== undefined && another === undefined) return only;
    throw new SignerError('PKCS11_OBJECT_AMBIGUOUS', `${where} matches ${objects.length} private keys: use one of ${objects.map((object) => objectUri(token, object)).join(' or ')}`);
  }
  const key = describePrivateKey(session, first, objectUri(token, first), certificate === undefined);
  if (certificate !== undefined && certificateKey !== undefined && !keyFitsCertificate(key, certificateKey, certificate.der)) {
    throw new SignerError('CERT_KEY_MISMATCH', `the private key ${objectUri(token, key.object)} does not belong to the certificate ${certificate.uri} (their public keys differ): pass the key that was certified`);
  }
  return key;
}

/** What can be told without a signature: same type, same curve, and (RSA, EC with a point) the same public key. */
function keyFitsCertificate(key: PrivateKeyInfo, certificateKey: KeyObject, certificateDer: Uint8Array): boolean {
  if (key.publicKey !== undefined) return publicKeyMatchesCertificate(key.publicKey, certificateDer);
  const certificateType = certificateKey.asymmetricKeyType === 'rsa' ? 'RSA' : certificateKey.asymmetricKeyType === 'ec' ? 'EC' : undefined;
  if (certificateType !== key.keyType) return false;
  if (key.ecParams === undefined || key.ecParams.length === 0) return true;
  const spki = certificateKey.export({ type: 'spki', format: 'der' });
  // The SPKI's AlgorithmIdentifier parameters are the same named-curve OID DER as CKA_EC_PARAMS.
  return spki.includes(key.ecParams);
}

function usableKey(session: Session, token: TokenSlot, object: TokenObject, needPublicKey: boolean): PrivateKeyInfo[] {
  try {
    return [describePrivateKey(session, object, objectUri(token, object), needPublicKey)];
  } catch (error) {
    if (error instanceof SignerError && error.code === 'KEY_TYPE_UNSUPPORTED') return [];
    throw error;
  }
}
