import { CKA, CKC_X_509, CKF, CKO, CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS } from './constants.js';
import { ckrOf, tokenFailure } from './errors.js';
import { padded, type LibraryInfo, type LoadedModule } from './module.js';
import { formatPkcs11Uri, type Pkcs11ObjectType, type Pkcs11Uri } from './uri.js';

/**
 * Slots, sessions, object searches and attribute reads, straight on pkcs11js. Every call here
 * is a round trip on a network HSM, so each reads what it needs in one go: one attribute
 * template per object, searches narrowed by the token (CKA_CLASS, CKA_SUBJECT) rather than
 * filtered here.
 */

/** A slot with an initialized token in it, with the fields RFC 7512 URIs match against. */
export interface TokenSlot {
  readonly handle: Buffer;
  readonly slotId: bigint;
  /** Read only when asked for (slot-description/slot-manufacturer in a URI, `list`); else ''. */
  readonly slotDescription: string;
  readonly slotManufacturer: string;
  readonly label: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  /** CK_TOKEN_INFO flags when the slots were listed: PIN state, protected authentication path. */
  readonly flags: number;
}

/** Slots with an initialized token present. Slots whose token cannot be read are skipped. */
export function listTokens(loaded: LoadedModule, withSlotInfo: boolean): TokenSlot[] {
  const tokens: TokenSlot[] = [];
  for (const handle of loaded.lib.C_GetSlotList(true)) {
    try {
      const token = loaded.lib.C_GetTokenInfo(handle);
      // SoftHSM always offers one empty slot for a new token; it holds nothing to use.
      if ((token.flags & CKF.TOKEN_INITIALIZED) === 0) continue;
      const slot = withSlotInfo ? loaded.lib.C_GetSlotInfo(handle) : undefined;
      tokens.push({
        handle,
        slotId: slotIdOf(handle),
        slotDescription: slot === undefined ? '' : padded(slot.slotDescription),
        slotManufacturer: slot === undefined ? '' : padded(slot.manufacturerID),
        label: padded(token.label),
        manufacturer: padded(token.manufacturerID),
        model: padded(token.model),
        serial: padded(token.serialNumber),
        flags: token.flags,
      });
    } catch {
      // a reader without a usable card (CKR_TOKEN_NOT_RECOGNIZED) is not a candidate
    }
  }
  // Slot order is arbitrary (SoftHSM: directory order); messages and listings should not be.
  // Code-point order, not localeCompare: the first collation of a process loads ICU's collator,
  // about 10 ms of every PKCS#11 start-up.
  return tokens.sort((a, b) => byCodePoint(a.label, b.label) || byCodePoint(a.serial, b.serial));
}

/** pkcs11js hands slot ids over as native CK_ULONG bytes. */
export function slotIdOf(handle: Buffer): bigint {
  if (handle.length >= 8) return handle.readBigUInt64LE(0);
  return BigInt(handle.readUInt32LE(0));
}

/** True when matching `uri` needs C_GetSlotInfo. */
export function needsSlotInfo(uri: Pkcs11Uri): boolean {
  return uri.slotDescription !== undefined || uri.slotManufacturer !== undefined;
}

/**
 * RFC 7512 section 2.3 matching: every token, slot and library attribute given must be equal.
 * The library's own attributes are read only when the URI names one.
 */
export function tokenMatches(uri: Pkcs11Uri, token: Omit<TokenSlot, 'handle' | 'flags'>, library: () => LibraryInfo): boolean {
  const equal = (wanted: string | undefined, actual: string): boolean => wanted === undefined || wanted === actual;
  if (!(equal(uri.token, token.label)
    && equal(uri.manufacturer, token.manufacturer)
    && equal(uri.model, token.model)
    && equal(uri.serial, token.serial)
    && equal(uri.slotDescription, token.slotDescription)
    && equal(uri.slotManufacturer, token.slotManufacturer)
    && (uri.slotId === undefined || uri.slotId === token.slotId))) return false;
  if (uri.libraryManufacturer === undefined && uri.libraryDescription === undefined && uri.libraryVersion === undefined) return true;
  const info = library();
  return equal(uri.libraryManufacturer, info.manufacturer)
    && equal(uri.libraryDescription, info.description)
    && (uri.libraryVersion === undefined || (uri.libraryVersion.major === info.version.major && uri.libraryVersion.minor === info.version.minor));
}

/** The attributes that name this token in a ready-to-paste URI. */
export function tokenUri(token: Pick<TokenSlot, 'label' | 'manufacturer' | 'model' | 'serial'>): Pkcs11Uri {
  return { token: token.label, manufacturer: token.manufacturer, model: token.model, serial: token.serial };
}

export function describeToken(token: Pick<TokenSlot, 'label' | 'serial'>): string {
  return `token "${token.label}" (serial ${token.serial})`;
}

/** An open session on one token of a loaded module. */
export interface Session {
  readonly module: LoadedModule;
  readonly token: TokenSlot;
  readonly handle: Buffer;
}

export function openSession(module: LoadedModule, token: TokenSlot, where: string): Session {
  let handle: Buffer;
  try {
    handle = module.lib.C_OpenSession(token.handle, CKF.SERIAL_SESSION);
  } catch (error) {
    throw tokenFailure(`opening a session on ${describeToken(token)}`, where, error);
  }
  module.sessions.set(token.slotId, (module.sessions.get(token.slotId) ?? 0) + 1);
  return { module, token, handle };
}

/** Closes a session; closing a token's last session logs this process out of it (PKCS#11 5.6). */
export function closeSession(session: Session): void {
  forgetSession(session);
  try {
    session.module.lib.C_CloseSession(session.handle);
  } catch {
    // the token may be gone already; there is nothing left to close
  }
}

/**
 * Our record of a session that ends without C_CloseSession: when the module is finalized
 * right after (C_Finalize closes every session), or the token already dropped it.
 */
export function forgetSession(session: Session): void {
  const { module, token } = session;
  const left = (module.sessions.get(token.slotId) ?? 1) - 1;
  if (left > 0) {
    module.sessions.set(token.slotId, left);
  } else {
    module.sessions.delete(token.slotId);
    module.loggedIn.delete(token.slotId);
  }
}

/**
 * True when this process already acts for the user on the session's token: a login of ours
 * that no close undid. Asked of the token only when our own record cannot tell.
 */
export function isLoggedIn(session: Session): boolean {
  if (session.module.loggedIn.has(session.token.slotId)) return true;
  if ((session.module.sessions.get(session.token.slotId) ?? 0) <= 1) return false;
  const state = session.module.lib.C_GetSessionInfo(session.handle).state;
  return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
}

export function currentTokenFlags(module: LoadedModule, token: TokenSlot): number {
  return module.lib.C_GetTokenInfo(token.handle).flags;
}

const CLASS_OF_TYPE: Readonly<Record<Pkcs11ObjectType, number>> = {
  cert: CKO.CERTIFICATE,
  private: CKO.PRIVATE_KEY,
  public: CKO.PUBLIC_KEY,
  'secret-key': CKO.SECRET_KEY,
  data: CKO.DATA,
};

export interface ObjectMatch {
  readonly object?: string | undefined;
  readonly id?: Uint8Array | undefined;
}

/** The search template for objects of one type with this label/id; certificates: X.509 only. */
export function searchTemplate(type: Pkcs11ObjectType, match: ObjectMatch, extra: readonly { type: number; value: Buffer | number | boolean }[] = []): { type: number; value: Buffer | number | boolean | string }[] {
  return [
    { type: CKA.CLASS, value: CLASS_OF_TYPE[type] },
    // Only X.509 certificates (CKC_X_509) can sign CreateSession: attribute certificates never match.
    ...(type === 'cert' ? [{ type: CKA.CERTIFICATE_TYPE, value: CKC_X_509 }] : []),
    ...(match.object !== undefined ? [{ type: CKA.LABEL, value: match.object }] : []),
    ...(match.id !== undefined ? [{ type: CKA.ID, value: Buffer.from(match.id) }] : []),
    ...extra,
  ];
}

const FIND_BATCH = 64;

/** Handles of the objects matching a template: C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal. */
export function findHandles(session: Session, template: ReturnType<typeof searchTemplate>): Buffer[] {
  const { lib } = session.module;
  lib.C_FindObjectsInit(session.handle, template);
  try {
    const handles: Buffer[] = [];
    for (;;) {
      const batch = lib.C_FindObjects(session.handle, FIND_BATCH);
      handles.push(...batch);
      if (batch.length < FIND_BATCH) return handles;
    }
  } finally {
    lib.C_FindObjectsFinal(session.handle);
  }
}

// A template with an attribute the object lacks, or hides, fails as a whole (PKCS#11 5.7.5):
// then each is read on its own so the others still count.
const ATTRIBUTE_REFUSALS = new Set(['CKR_ATTRIBUTE_TYPE_INVALID', 'CKR_ATTRIBUTE_SENSITIVE', 'CKR_FUNCTION_FAILED', 'CKR_GENERAL_ERROR']);

/**
 * Several attributes of one object in one C_GetAttributeValue template; an attribute the token
 * does not have or will not show is undefined. Falls back to one read per attribute only when
 * the token refuses the template as a whole.
 */
export function readAttributes(session: Session, object: Buffer, types: readonly number[]): Map<number, Buffer | undefined> {
  const { lib } = session.module;
  const values = new Map<number, Buffer | undefined>();
  try {
    const read = lib.C_GetAttributeValue(session.handle, object, types.map((type) => ({ type })));
    for (const attribute of read) values.set(attribute.type, Buffer.isBuffer(attribute.value) ? attribute.value : undefined);
    return values;
  } catch (error) {
    if (!ATTRIBUTE_REFUSALS.has(ckrOf(error) ?? '')) throw error;
  }
  for (const type of types) {
    try {
      const value = lib.C_GetAttributeValue(session.handle, object, [{ type }])[0]?.value;
      values.set(type, Buffer.isBuffer(value) ? value : undefined);
    } catch {
      values.set(type, undefined);
    }
  }
  return values;
}

export function ulongValue(value: Buffer | undefined): number | undefined {
  if (value === undefined || value.length === 0) return undefined;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

export function boolValue(value: Buffer | undefined): boolean {
  return value !== undefined && value.length > 0 && value[0] !== 0;
}

export interface TokenObject {
  readonly handle: Buffer;
  readonly type: Pkcs11ObjectType;
  readonly id: Uint8Array;
  readonly label: string;
  /** The attributes read with it (besides CKA_ID and CKA_LABEL), by CKA_ number. */
  readonly attributes: ReadonlyMap<number, Buffer | undefined>;
}

/**
 * Objects of one type whose CKA_LABEL/CKA_ID match (when given), each read with CKA_ID,
 * CKA_LABEL and `attributes` in a single template.
 */
export function findObjects(session: Session, type: Pkcs11ObjectType, match: ObjectMatch, attributes: readonly number[] = []): TokenObject[] {
  const objects: TokenObject[] = [];
  for (const handle of findHandles(session, searchTemplate(type, match))) {
    const values = readAttributes(session, handle, [CKA.ID, CKA.LABEL, ...attributes]);
    objects.push({
      handle,
      type,
      id: values.get(CKA.ID) ?? new Uint8Array(0),
      label: values.get(CKA.LABEL)?.toString('utf8') ?? '',
      attributes: values,
    });
  }
  // Tokens return objects in storage order; candidate lists and listings read better sorted.
  return objects.sort((a, b) => Buffer.compare(a.id, b.id) || byCodePoint(a.label, b.label));
}

/** A ready-to-paste URI for an object: its token, then label, type and id. */
export function objectUri(token: Pick<TokenSlot, 'label' | 'manufacturer' | 'model' | 'serial'>, object: Pick<TokenObject, 'type' | 'id' | 'label'>): string {
  return formatPkcs11Uri({
    ...tokenUri(token),
    ...(object.label !== '' ? { object: object.label } : {}),
    type: object.type,
    ...(object.id.length > 0 ? { id: object.id } : {}),
  });
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
