import { ObjectClass, SessionFlag, TokenFlag, type Session, type SessionObject, type Slot } from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import { tokenFailure } from './errors.js';
import type { LoadedModule } from './module.js';
import { formatPkcs11Uri, type Pkcs11ObjectType, type Pkcs11Uri } from './uri.js';

/** A slot with an initialized token in it, with the fields RFC 7512 URIs match against. */
export interface TokenSlot {
  readonly slot: Slot;
  readonly slotId: bigint;
  readonly slotDescription: string;
  readonly slotManufacturer: string;
  readonly label: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  readonly flags: number;
}

/** Slots with an initialized token present. Slots whose token cannot be read are skipped. */
export function listTokens(loaded: LoadedModule): TokenSlot[] {
  const tokens: TokenSlot[] = [];
  const slots = loaded.module.getSlots(true);
  for (let i = 0; i < slots.length; i++) {
    try {
      const slot = slots.items(i);
      const token = slot.getToken();
      // SoftHSM always offers one empty slot for a new token; it holds nothing to use.
      if ((token.flags & TokenFlag.TOKEN_INITIALIZED) === 0) continue;
      tokens.push({
        slot,
        slotId: slotIdOf(slot.handle),
        slotDescription: slot.slotDescription,
        slotManufacturer: slot.manufacturerID,
        label: token.label,
        manufacturer: token.manufacturerID,
        model: token.model,
        serial: token.serialNumber,
        flags: token.flags,
      });
    } catch {
      // a reader without a usable card (CKR_TOKEN_NOT_RECOGNIZED) is not a candidate
    }
  }
  // Slot order is arbitrary (SoftHSM: directory order); messages and listings should not be.
  return tokens.sort((a, b) => a.label.localeCompare(b.label) || a.serial.localeCompare(b.serial));
}

/** pkcs11js hands slot ids over as native CK_ULONG bytes. */
function slotIdOf(handle: Buffer): bigint {
  if (handle.length >= 8) return handle.readBigUInt64LE(0);
  return BigInt(handle.readUInt32LE(0));
}

export interface LibraryInfo {
  readonly manufacturer: string;
  readonly description: string;
  readonly version: { readonly major: number; readonly minor: number };
}

export function libraryInfo(loaded: LoadedModule): LibraryInfo {
  return { manufacturer: loaded.module.manufacturerID, description: loaded.module.libraryDescription, version: loaded.module.libraryVersion };
}

/** RFC 7512 section 2.3 matching: every token, slot and library attribute given must be equal. */
export function tokenMatches(uri: Pkcs11Uri, token: Omit<TokenSlot, 'slot' | 'flags'>, library: LibraryInfo): boolean {
  const equal = (wanted: string | undefined, actual: string): boolean => wanted === undefined || wanted === actual;
  return equal(uri.token, token.label)
    && equal(uri.manufacturer, token.manufacturer)
    && equal(uri.model, token.model)
    && equal(uri.serial, token.serial)
    && equal(uri.slotDescription, token.slotDescription)
    && equal(uri.slotManufacturer, token.slotManufacturer)
    && (uri.slotId === undefined || uri.slotId === token.slotId)
    && equal(uri.libraryManufacturer, library.manufacturer)
    && equal(uri.libraryDescription, library.description)
    && (uri.libraryVersion === undefined || (uri.libraryVersion.major === library.version.major && uri.libraryVersion.minor === library.version.minor));
}

/** The attributes that name this token in a ready-to-paste URI. */
export function tokenUri(token: Pick<TokenSlot, 'label' | 'manufacturer' | 'model' | 'serial'>): Pkcs11Uri {
  return { token: token.label, manufacturer: token.manufacturer, model: token.model, serial: token.serial };
}

export function describeToken(token: Pick<TokenSlot, 'label' | 'serial'>): string {
  return `token "${token.label}" (serial ${token.serial})`;
}

export function openSession(token: TokenSlot, where: string): Session {
  try {
    return token.slot.open(SessionFlag.SERIAL_SESSION);
  } catch (error) {
    throw tokenFailure(`opening a session on ${describeToken(token)}`, where, error);
  }
}

export function closeSession(session: Session): void {
  try {
    session.close();
  } catch {
    // the token may be gone already; there is nothing left to close
  }
}

// CK_STATE values (PKCS#11 2.40 section 5.6); pkcs11js does not export them.
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/** True when this session already acts for the user (another session of ours logged in). */
export function isLoggedIn(session: Session): boolean {
  const state = session.lib.C_GetSessionInfo(session.handle).state;
  return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
}

export function currentTokenFlags(token: TokenSlot): number {
  return token.slot.lib.C_GetTokenInfo(token.slot.handle).flags;
}

const CLASS_OF_TYPE: Readonly<Record<Pkcs11ObjectType, ObjectClass>> = {
  cert: ObjectClass.CERTIFICATE,
  private: ObjectClass.PRIVATE_KEY,
  public: ObjectClass.PUBLIC_KEY,
  'secret-key': ObjectClass.SECRET_KEY,
  data: ObjectClass.DATA,
};

export interface TokenObject {
  readonly object: SessionObject;
  readonly type: Pkcs11ObjectType;
  readonly id: Uint8Array;
  readonly label: string;
}

/** Objects of one type whose CKA_LABEL/CKA_ID match the URI's object/id (when given). */
export function findObjects(session: Session, type: Pkcs11ObjectType, match: { readonly object?: string | undefined; readonly id?: Uint8Array | undefined }): TokenObject[] {
  const template: Record<string, unknown> = { class: CLASS_OF_TYPE[type] };
  if (match.object !== undefined) template['label'] = match.object;
  if (match.id !== undefined) template['id'] = Buffer.from(match.id);
  const found = session.find(template);
  const objects: TokenObject[] = [];
  for (let i = 0; i < found.length; i++) {
    const object = found.items(i);
    objects.push({
      object,
      type,
      id: optionalAttribute(object, pkcs11js.CKA_ID) ?? new Uint8Array(0),
      label: optionalAttribute(object, pkcs11js.CKA_LABEL)?.toString('utf8') ?? '',
    });
  }
  // Tokens return objects in storage order; candidate lists and listings read better sorted.
  return objects.sort((a, b) => Buffer.compare(a.id, b.id) || a.label.localeCompare(b.label));
}

/**
 * One attribute, or undefined when the token does not have it or will not show it
 * (CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_SENSITIVE). Read one at a time because a
 * single unsupported attribute fails a combined C_GetAttributeValue.
 */
export function optionalAttribute(object: SessionObject, type: number): Buffer | undefined {
  try {
    const value = object.lib.C_GetAttributeValue(object.session.handle, object.handle, [{ type }])[0]?.value;
    return Buffer.isBuffer(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function ulongAttribute(object: SessionObject, type: number): number | undefined {
  const value = optionalAttribute(object, type);
  if (value === undefined || value.length === 0) return undefined;
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

export function boolAttribute(object: SessionObject, type: number): boolean {
  const value = optionalAttribute(object, type);
  return value !== undefined && value.length > 0 && value[0] !== 0;
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
