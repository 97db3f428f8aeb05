import { silent, type DebugLog } from '../debug.js';
import { SignerError } from '../errors.js';
import { encodePem } from '../certs/pem.js';
import { openKeySource } from '../keys/index.js';
import type { SecretIO } from '../keys/secret.js';
import { PIN_ENV_VAR, type Pkcs11KeySpec } from '../keys/spec.js';
import { parsePkcs11Uri, type Pkcs11Uri } from '../keys/pkcs11/uri.js';
import { buildCertificateRequest } from './csr.js';
import type { EnrollKeyType } from './key-types.js';
import { openTokenSession } from './pkcs11-device.js';
import { generateTokenKeyPair, type GeneratedTokenKey } from './pkcs11-generate.js';
import { encodeSubject, parseSubject } from './subject.js';

export interface Pkcs11EnrollOptions {
  /** pkcs11: URI naming the token, and optionally the new key's object= (label) and id=. */
  readonly keyUri: string;
  readonly modulePath?: string;
  readonly keyType: EnrollKeyType;
  /** RFC 4514 subject, e.g. "CN=build-01,O=Example". */
  readonly subject: string;
  readonly pin?: Pkcs11KeySpec['pin'];
  readonly secretIO?: SecretIO;
  readonly debug?: DebugLog;
  /** Stores the request (e.g. writes --out); if it throws, the new key is destroyed too. */
  readonly deliver?: (csrPem: string) => void;
}

export interface Pkcs11EnrollResult {
  readonly keyUri: string;
  readonly modulePath: string;
  readonly keyType: EnrollKeyType;
  readonly label: string;
  readonly idHex: string;
  readonly attributes: GeneratedTokenKey['attributes'];
  readonly csrDer: Uint8Array;
  readonly csrPem: string;
}

/**
 * `enroll` on a PKCS#11 token: generate the key inside it, then have the project's own key
 * source (the one credential-process uses) sign a PKCS#10 request with it, so the request
 * proves the key works exactly as signing later will. The source shares this process's login
 * (recorded on the shared module), so the PIN is read once and never retried. If any step after
 * generation fails, the new key is destroyed again:
 * a rerun with the same label then works.
 */
export async function enrollPkcs11Key(options: Pkcs11EnrollOptions): Promise<Pkcs11EnrollResult> {
  const debug = options.debug ?? silent;
  const uri = parseKeyUri(options.keyUri);
  // The subject is checked before the token is touched: a typo costs no PIN entry.
  const subject = encodeSubject(parseSubject(options.subject));
  const pin = options.pin ?? { envVar: PIN_ENV_VAR };
  const token = await openTokenSession({
    uri,
    ...(options.modulePath !== undefined ? { modulePath: options.modulePath } : {}),
    pin,
    ...(options.secretIO !== undefined ? { secretIO: options.secretIO } : {}),
  });
  try {
    debug(`PKCS#11 module ${token.modulePath}; generating ${options.keyType} on token "${token.token.label}" (serial ${token.token.serial})`);
    const key = generateTokenKeyPair(token, {
      keyType: options.keyType,
      ...(uri.object !== undefined ? { label: uri.object } : {}),
      ...(uri.id !== undefined ? { id: uri.id } : {}),
    });
    debug(`generated ${key.uri}`);
    try {
      const source = await openKeySource(
        { kind: 'pkcs11', keyUri: key.uri, modulePath: token.modulePath, pin, reusePin: false },
        { debug },
      );
      let csrDer: Uint8Array;
      try {
        csrDer = await buildCertificateRequest({ subject, publicKey: key.publicKey, keyType: source.keyType, sign: (message) => source.sign(message, 'SHA256') });
      } finally {
        await source.close();
      }
      const csrPem = encodePem('CERTIFICATE REQUEST', csrDer);
      options.deliver?.(csrPem);
      return {
        keyUri: key.uri,
        modulePath: token.modulePath,
        keyType: options.keyType,
        label: key.label,
        idHex: Buffer.from(key.id).toString('hex'),
        attributes: key.attributes,
        csrDer,
        csrPem,
      };
    } catch (error) {
      key.destroy();
      debug('the new key was destroyed again because enrolment did not complete');
      throw error;
    }
  } finally {
    token.close();
  }
}

function parseKeyUri(text: string): Pkcs11Uri {
  const uri = parsePkcs11Uri(text);
  if (uri.type !== undefined && uri.type !== 'private') {
    throw new SignerError('USAGE', `the key URI says type=${uri.type}: enroll generates a private key; drop type= or write type=private`);
  }
  if (uri.token === undefined && uri.serial === undefined) {
    throw new SignerError('USAGE', 'the key URI names no token: write pkcs11:token=LABEL (add object=NAME and id=%01 to choose the key\'s label and id)');
  }
  return uri;
}
