import type { KeyObject } from 'node:crypto';
import { describeCertificate } from '../../certs/load.js';
import { silent, type DebugLog } from '../../debug.js';
import { SignerError } from '../../errors.js';
import type { SecretIO } from '../secret.js';
import type { Pkcs11KeySpec } from '../spec.js';
import { CKA, CKK } from './constants.js';
import { describePrivateKey, privateKeyAttributes, publicKeyFromAttributes } from './key.js';
import { listTokensOrExplain, parseUriOption } from './lookup.js';
import { acquireModule, type LoadedModule } from './module.js';
import { resolveModulePath, type ModuleSearch } from './module-path.js';
import { login, pinSecretSpec } from './pin.js';
import {
  closeSession,
  findObjects,
  objectUri,
  openSession,
  tokenMatches,
  tokenUri,
  ulongValue,
  type Session,
  type TokenObject,
  type TokenSlot,
} from './token.js';
import { formatPkcs11Uri, type Pkcs11Uri } from './uri.js';

/** What `list` shows: per module, its tokens and their objects, each as a ready-to-paste URI. */
export interface ModuleInventory {
  readonly path: string;
  readonly library: string;
  readonly tokens: readonly TokenInventory[];
}

export interface TokenInventory {
  readonly slotId: string;
  readonly slotDescription: string;
  readonly label: string;
  readonly model: string;
  readonly serial: string;
  readonly uri: string;
  /** Why private objects are missing (no login asked, or the login failed). */
  readonly loggedIn: boolean;
  readonly objects: readonly ObjectInventory[];
}

export interface ObjectInventory {
  readonly type: 'cert' | 'private' | 'public';
  readonly label: string;
  readonly idHex: string;
  readonly uri: string;
  /** "EC P-256", "RSA 2048, PIN before every signature", "CN=leaf,O=Example, expires 2027-01-01". */
  readonly detail: string;
}

export interface InventoryOptions {
  /** Modules to list; none means p11-kit-proxy (every module p11-kit knows). */
  readonly modulePaths: readonly string[];
  /** Only tokens matching this pkcs11: URI. */
  readonly filter?: string;
  /** Log in to show private objects; needs a filter matching exactly one token. */
  readonly login: boolean;
  readonly pin?: Pkcs11KeySpec['pin'];
  readonly debug?: DebugLog;
  readonly secretIO?: SecretIO;
  readonly moduleSearch?: ModuleSearch;
}

export async function listPkcs11Inventory(options: InventoryOptions): Promise<ModuleInventory[]> {
  const debug = options.debug ?? silent;
  const filter: Pkcs11Uri = options.filter === undefined ? {} : parseUriOption(options.filter, 'list');
  const paths = options.modulePaths.length > 0 ? options.modulePaths : [undefined];
  const modules: ModuleInventory[] = [];
  for (const flag of paths) {
    const module = resolveModulePath(flag, [filter], options.moduleSearch);
    debug(`PKCS#11 module ${module.path} (from ${module.origin})`);
    const loaded = acquireModule(module);
    try {
      modules.push(await inventoryOf(loaded, filter, options));
    } finally {
      loaded.release();
    }
  }
  return modules;
}

async function inventoryOf(loaded: LoadedModule, filter: Pkcs11Uri, options: InventoryOptions): Promise<ModuleInventory> {
  const info = loaded.library();
  const tokens = listTokensOrExplain(loaded, true, loaded.path).filter((token) => tokenMatches(filter, token, () => info));
  if (options.login && tokens.length !== 1) {
    const found = tokens.map((t) => formatPkcs11Uri(tokenUri(t)));
    const next = found.length === 0 ? 'run `roles-anywhere-signer list` without --login to see the tokens' : 'pass one of them';
    throw new SignerError('USAGE', `--login needs a URI that matches exactly one token, so a PIN is never tried on the wrong one (matched: ${found.join(' or ') || 'none'}): ${next}`);
  }
  const inventories: TokenInventory[] = [];
  for (const token of tokens) {
    const where = formatPkcs11Uri(tokenUri(token));
    const session = openSession(loaded, token, where);
    try {
      if (options.login) {
        await login(session, 'user', pinSecretSpec(options.pin ?? {}, [filter], token), where, options.secretIO);
      }
      inventories.push({
        slotId: token.slotId.toString(10),
        slotDescription: token.slotDescription,
        label: token.label,
        model: token.model,
        serial: token.serial,
        uri: where,
        loggedIn: options.login,
        objects: objectsOf(session, token),
      });
    } finally {
      closeSession(session);
    }
  }
  const version = `${info.version.major}.${info.version.minor}`;
  return { path: loaded.path, library: `${info.manufacturer} "${info.description}" ${version}`, tokens: inventories };
}

function objectsOf(session: Session, token: TokenSlot): ObjectInventory[] {
  const entries: ObjectInventory[] = [];
  const add = (object: TokenObject, detail: string): void => {
    entries.push({ type: object.type as ObjectInventory['type'], label: object.label, idHex: Buffer.from(object.id).toString('hex'), uri: objectUri(token, object), detail });
  };
  for (const object of findObjects(session, 'cert', {}, [CKA.VALUE])) {
    const der = object.attributes.get(CKA.VALUE);
    try {
      const about = describeCertificate(der ?? new Uint8Array(0));
      add(object, `${about.subject === '' ? '(empty subject)' : about.subject}, issued by ${about.issuer}, expires ${about.notAfter.toISOString()}`);
    } catch {
      add(object, 'not an X.509 certificate');
    }
  }
  for (const object of findObjects(session, 'private', {}, privateKeyAttributes(undefined))) {
    try {
      const key = describePrivateKey(session, object, objectUri(token, object), true);
      add(object, `${key.publicKey === undefined ? key.keyType : keyDetail(key.publicKey)}${key.alwaysAuthenticate ? ', PIN before every signature' : ''}`);
    } catch (error) {
      add(object, error instanceof SignerError && error.code === 'KEY_TYPE_UNSUPPORTED' ? 'a key type IAM Roles Anywhere cannot use' : 'unreadable key');
    }
  }
  for (const object of findObjects(session, 'public', {}, [CKA.KEY_TYPE, CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.EC_PARAMS, CKA.EC_POINT])) {
    add(object, publicObjectDetail(object));
  }
  return entries;
}

function publicObjectDetail(object: TokenObject): string {
  const type = ulongValue(object.attributes.get(CKA.KEY_TYPE));
  const keyType = type === CKK.RSA ? 'RSA' : type === CKK.EC ? 'EC' : undefined;
  if (keyType === undefined) return 'a key type IAM Roles Anywhere cannot use';
  const publicKey = publicKeyFromAttributes(object.attributes, keyType);
  return publicKey === undefined ? keyType : keyDetail(publicKey);
}

const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function keyDetail(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details?.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') return `EC ${CURVE_NAMES[details?.namedCurve ?? ''] ?? details?.namedCurve ?? '?'}`;
  return key.asymmetricKeyType ?? 'unknown';
}

const TYPE_TITLES: Readonly<Record<ObjectInventory['type'], string>> = { cert: 'certificate', private: 'private key', public: 'public key' };

/** Plain text for a terminal: every URI on its own line, ready to copy. Never a PIN. */
export function formatInventory(modules: readonly ModuleInventory[]): string {
  const lines: string[] = [];
  for (const module of modules) {
    lines.push(`Module ${module.path}: ${module.library}`);
    if (module.tokens.length === 0) lines.push('  no initialized token (is it plugged in? is pcscd running for smart cards?)');
    for (const token of module.tokens) {
      lines.push('', `  Token "${token.label}" (${token.model}, serial ${token.serial}) in slot ${token.slotId} "${token.slotDescription}"`, `    ${token.uri}`);
      if (!token.loggedIn) lines.push('    (not logged in: private keys may be hidden; add --login with a URI that matches this token)');
      for (const object of token.objects) {
        lines.push(`    ${TYPE_TITLES[object.type]} "${object.label}" id ${object.idHex === '' ? '(none)' : object.idHex}: ${object.detail}`, `      ${object.uri}`);
      }
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
