import { SignerError } from '../../errors.js';

/**
 * RFC 7512 PKCS#11 URIs: parse, format, redact. Pure; no token access.
 *
 * Text values are stored decoded (UTF-8), `id` as raw bytes. Attribute names are the RFC's;
 * an attribute outside the RFC (including vendor ones such as `x-foo`) is rejected, because a
 * silently ignored constraint could select a different key than the one the user meant.
 */

export type Pkcs11ObjectType = 'cert' | 'data' | 'private' | 'public' | 'secret-key';

export interface Pkcs11Version {
  readonly major: number;
  readonly minor: number;
}

export interface Pkcs11Uri {
  // token (CK_TOKEN_INFO)
  readonly token?: string;
  readonly manufacturer?: string;
  readonly serial?: string;
  readonly model?: string;
  // library (CK_INFO)
  readonly libraryManufacturer?: string;
  readonly libraryDescription?: string;
  readonly libraryVersion?: Pkcs11Version;
  // slot (CK_SLOT_INFO, CK_SLOT_ID)
  readonly slotDescription?: string;
  readonly slotManufacturer?: string;
  readonly slotId?: bigint;
  // object
  readonly object?: string;
  readonly type?: Pkcs11ObjectType;
  readonly id?: Uint8Array;
  // query
  readonly pinValue?: string;
  readonly pinSource?: string;
  readonly moduleName?: string;
  readonly modulePath?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const TEXT_PATH_ATTRIBUTES = {
  token: 'token',
  manufacturer: 'manufacturer',
  serial: 'serial',
  model: 'model',
  'library-manufacturer': 'libraryManufacturer',
  'library-description': 'libraryDescription',
  'slot-description': 'slotDescription',
  'slot-manufacturer': 'slotManufacturer',
  object: 'object',
} as const satisfies Record<string, keyof Pkcs11Uri>;

const QUERY_ATTRIBUTES = {
  'pin-value': 'pinValue',
  'pin-source': 'pinSource',
  'module-name': 'moduleName',
  'module-path': 'modulePath',
} as const satisfies Record<string, keyof Pkcs11Uri>;

const OBJECT_TYPES: readonly Pkcs11ObjectType[] = ['cert', 'data', 'private', 'public', 'secret-key'];

/**
 * The order `formatPkcs11Uri` writes attributes in: the token first (what users recognise),
 * then slot and library, then the object. RFC 7512 makes the order insignificant.
 */
const PATH_ORDER = [
  'token', 'manufacturer', 'model', 'serial',
  'slot-description', 'slot-manufacturer', 'slot-id',
  'library-manufacturer', 'library-description', 'library-version',
  'object', 'type', 'id',
] as const;
const QUERY_ORDER = ['pin-source', 'pin-value', 'module-name', 'module-path'] as const;

// RFC 3986 unreserved plus RFC 7512 pk11-res-avail; the path adds "&", the query "/", "?", "|".
const UNRESERVED = /[A-Za-z0-9\-._~:[\]@!$'()*+,=]/;
const PATH_EXTRA = new Set(['&']);
const QUERY_EXTRA = new Set(['/', '?', '|']);

function invalid(position: number, what: string): SignerError {
  return new SignerError('PKCS11_URI_INVALID', `invalid pkcs11: URI at position ${position}: ${what}`);
}

/**
 * Parses a PKCS#11 URI (RFC 7512 section 2.3). Errors name the 0-based character position and
 * never echo a value, so a pin-value cannot leak through an error message.
 */
export function parsePkcs11Uri(text: string): Pkcs11Uri {
  const scheme = 'pkcs11:';
  if (text.slice(0, scheme.length).toLowerCase() !== scheme) {
    throw invalid(0, 'it must start with "pkcs11:"');
  }
  const uri: Mutable<Pkcs11Uri> = {};
  const seen = new Set<string>();
  const queryStart = text.indexOf('?', scheme.length);
  const pathEnd = queryStart === -1 ? text.length : queryStart;

  forEachAttribute(text, scheme.length, pathEnd, ';', (name, rawValue, at, valueAt) => {
    if (seen.has(name)) throw invalid(at, `attribute "${name}" appears twice`);
    seen.add(name);
    // "&" is legal in path values, so "object=k&pin-value=1234" (an "&" typed for "?") would
    // otherwise parse, and the PIN would be shown as part of the label in every message.
    const misplaced = MISPLACED_QUERY.exec(rawValue);
    if (misplaced?.[1] !== undefined) throw unknownAttribute(misplaced[1].toLowerCase(), valueAt + misplaced.index + 1, false);
    setPathAttribute(uri, name, rawValue, at, valueAt);
  });
  if (queryStart !== -1) {
    forEachAttribute(text, queryStart + 1, text.length, '&', (name, rawValue, at, valueAt) => {
      if (seen.has(name)) throw invalid(at, `attribute "${name}" appears twice`);
      seen.add(name);
      const key = (QUERY_ATTRIBUTES as Record<string, keyof typeof uri | undefined>)[name];
      if (key === undefined) throw unknownAttribute(name, at, true);
      (uri as Record<string, unknown>)[key] = decodeText(rawValue, valueAt, QUERY_EXTRA, name);
    });
  }
  if (uri.pinValue !== undefined && uri.pinSource !== undefined) {
    throw invalid(queryStart + 1, 'give either pin-value or pin-source, not both');
  }
  return uri;
}

function forEachAttribute(
  text: string,
  start: number,
  end: number,
  separator: string,
  visit: (name: string, rawValue: string, at: number, valueAt: number) => void,
): void {
  if (start === end) return;
  let at = start;
  while (at <= end) {
    let next = text.indexOf(separator, at);
    if (next === -1 || next > end) next = end;
    const part = text.slice(at, next);
    if (part === '') throw invalid(at, `empty attribute (a stray "${separator}")`);
    const equals = part.indexOf('=');
    if (equals === -1) throw invalid(at, `attribute "${part.slice(0, 40)}" has no "=value"`);
    const name = part.slice(0, equals);
    if (!/^[a-z0-9_-]+$/i.test(name)) throw invalid(at, 'attribute name must be letters, digits, "-" or "_"');
    visit(name, part.slice(equals + 1), at, at + equals + 1);
    at = next + 1;
  }
}

const PATH_NAMES: ReadonlySet<string> = new Set<string>(PATH_ORDER);
const QUERY_NAMES: ReadonlySet<string> = new Set<string>(QUERY_ORDER);
const MISPLACED_QUERY = new RegExp(`&(${QUERY_ORDER.join('|')})=`, 'i');

function unknownAttribute(name: string, at: number, inQuery: boolean): SignerError {
  if (inQuery && PATH_NAMES.has(name)) return invalid(at, `"${name}" belongs in the path, before "?" and separated by ";"`);
  if (!inQuery && QUERY_NAMES.has(name)) return invalid(at, `"${name}" belongs in the query, after "?" and separated by "&"`);
  const known = [...(inQuery ? QUERY_NAMES : PATH_NAMES)].join(', ');
  return invalid(at, `unknown ${inQuery ? 'query' : 'path'} attribute "${name}" (known: ${known})`);
}

function setPathAttribute(uri: Mutable<Pkcs11Uri>, name: string, rawValue: string, at: number, valueAt: number): void {
  const textKey = (TEXT_PATH_ATTRIBUTES as Record<string, keyof typeof uri | undefined>)[name];
  if (textKey !== undefined) {
    (uri as Record<string, unknown>)[textKey] = decodeText(rawValue, valueAt, PATH_EXTRA, name);
    return;
  }
  switch (name) {
    case 'id':
      uri.id = decodeBytes(rawValue, valueAt, PATH_EXTRA, name);
      return;
    case 'type': {
      const value = decodeText(rawValue, valueAt, PATH_EXTRA, name);
      if (!(OBJECT_TYPES as readonly string[]).includes(value)) {
        throw invalid(valueAt, `type must be one of ${OBJECT_TYPES.join(', ')}`);
      }
      uri.type = value as Pkcs11ObjectType;
      return;
    }
    case 'slot-id':
      if (!/^[0-9]+$/.test(rawValue)) throw invalid(valueAt, 'slot-id must be a decimal number');
      uri.slotId = BigInt(rawValue);
      return;
    case 'library-version': {
      const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(rawValue);
      if (match === null) throw invalid(valueAt, 'library-version must be MAJOR or MAJOR.MINOR (digits)');
      const major = Number(match[1]);
      const minor = match[2] === undefined ? 0 : Number(match[2]);
      if (major > 255 || minor > 255) throw invalid(valueAt, 'library-version parts must be 0 to 255');
      uri.libraryVersion = { major, minor };
      return;
    }
    default:
      throw unknownAttribute(name, at, false);
  }
}

function decodeBytes(raw: string, valueAt: number, extra: ReadonlySet<string>, name: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const char = raw.charAt(i);
    if (char === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/i.test(hex)) throw invalid(valueAt + i, `"%" in ${name} must be followed by two hex digits`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (UNRESERVED.test(char) || extra.has(char)) {
      bytes.push(char.charCodeAt(0));
    } else {
      const shown = char === ' ' ? 'a space' : /[\x21-\x7e]/.test(char) ? `"${char}"` : `character U+${char.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`;
      throw invalid(valueAt + i, `${shown} must be percent-encoded in ${name}`);
    }
  }
  return Uint8Array.from(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(raw: string, valueAt: number, extra: ReadonlySet<string>, name: string): string {
  const bytes = decodeBytes(raw, valueAt, extra, name);
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalid(valueAt, `${name} is not valid UTF-8 once percent-decoded`);
  }
}

function encodeBytes(bytes: Uint8Array, extra: ReadonlySet<string>, encodeAll: boolean): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (!encodeAll && byte < 0x80 && (UNRESERVED.test(char) || extra.has(char))) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const utf8Encoder = new TextEncoder();

function encodeText(value: string, extra: ReadonlySet<string>): string {
  return encodeBytes(utf8Encoder.encode(value), extra, false);
}

function pathValue(uri: Pkcs11Uri, name: (typeof PATH_ORDER)[number]): string | undefined {
  switch (name) {
    case 'id':
      // Always fully encoded, as RFC 7512's examples do: ids are bytes, not text.
      return uri.id === undefined ? undefined : encodeBytes(uri.id, PATH_EXTRA, true);
    case 'type':
      return uri.type;
    case 'slot-id':
      return uri.slotId?.toString(10);
    case 'library-version':
      if (uri.libraryVersion === undefined) return undefined;
      return uri.libraryVersion.minor === 0 ? `${uri.libraryVersion.major}` : `${uri.libraryVersion.major}.${uri.libraryVersion.minor}`;
    default: {
      const value = uri[TEXT_PATH_ATTRIBUTES[name]];
      return value === undefined ? undefined : encodeText(value, PATH_EXTRA);
    }
  }
}

/** Writes a URI in a canonical form: fixed attribute order, upper-case percent-encoding. */
export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const path: string[] = [];
  for (const name of PATH_ORDER) {
    const value = pathValue(uri, name);
    if (value !== undefined) path.push(`${name}=${value}`);
  }
  const query: string[] = [];
  for (const name of QUERY_ORDER) {
    const value = uri[QUERY_ATTRIBUTES[name]];
    if (value !== undefined) query.push(`${name}=${encodeText(value, QUERY_EXTRA)}`);
  }
  return `pkcs11:${path.join(';')}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/**
 * The URI as it may appear in messages and logs: pin-value removed, and a `|command`
 * pin-source shortened (a command line can embed the PIN).
 */
export function redactPkcs11Uri(uri: Pkcs11Uri): string {
  const { pinValue: _pinValue, pinSource, ...rest } = uri;
  if (pinSource === undefined) return formatPkcs11Uri(rest);
  return formatPkcs11Uri({ ...rest, pinSource: pinSource.startsWith('|') ? '|...' : pinSource });
}

/**
 * For messages about a URI that failed to parse: everything after "?" is dropped, because the
 * parser never got far enough to know which part is a PIN, and so is everything from a
 * pin-value or pin-source written in the path by mistake ("pkcs11:object=k;pin-value=1234").
 */
export function redactUnparsedPkcs11Uri(text: string): string {
  const query = text.indexOf('?');
  const path = query === -1 ? text : text.slice(0, query);
  const misplacedPin = path.search(/pin-(value|source)/i);
  if (misplacedPin !== -1) return `${path.slice(0, misplacedPin)}...`;
  return query === -1 ? text : `${path}?...`;
}

/** True when the URI narrows the search to tokens (any token, slot or library attribute). */
export function hasTokenAttributes(uri: Pkcs11Uri): boolean {
  return uri.token !== undefined || uri.manufacturer !== undefined || uri.serial !== undefined || uri.model !== undefined
    || uri.slotDescription !== undefined || uri.slotManufacturer !== undefined || uri.slotId !== undefined
    || uri.libraryManufacturer !== undefined || uri.libraryDescription !== undefined || uri.libraryVersion !== undefined;
}
