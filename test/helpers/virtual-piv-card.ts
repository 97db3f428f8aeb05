import { constants, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { ecdsaIntegersToDer } from '../../src/keys/ecdsa-signature.js';

/**
 * A test double of a YubiKey's PIV applet: just enough of NIST SP 800-73-4 and Yubico's
 * extensions for the real libykcs11.so and OpenSC's opensc-pkcs11.so to find certificates,
 * log in, and sign. It speaks APDUs; vpcd-rig.ts puts it behind vsmartcard's vpcd reader.
 *
 * PIN policies as on a YubiKey: 9a and 9d "once" (a VERIFY per session), 9c "always" (VERIFY
 * immediately before each GENERAL AUTHENTICATE), 9e "never". Three wrong PINs block the PIN.
 */
export type PivSlot = 0x9a | 0x9c | 0x9d | 0x9e;
export type PinPolicy = 'once' | 'always' | 'never';

export interface PivSlotConfig {
  readonly slot: PivSlot;
  /** EC P-256 or RSA 2048; the card signs with it in software. */
  readonly privateKey: KeyObject;
  readonly certificate: Uint8Array;
  readonly pinPolicy?: PinPolicy;
}

export interface VirtualPivCardOptions {
  readonly serial: number;
  readonly pin: string;
  readonly slots: readonly PivSlotConfig[];
  readonly firmware?: readonly [number, number, number];
}

/** One APDU exchange, for assertions (e.g. how many VERIFY commands carried a PIN). */
export interface ApduRecord {
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data length (a PIN's bytes are not recorded). */
  readonly dataLength: number;
  readonly status: number;
}

export interface VirtualPivCard {
  /** YubiKey 5 ATR; ykcs11 checks it. */
  readonly atr: Buffer;
  readonly serial: number;
  /** Answers one command APDU; may wait (a touch), so it is async. */
  handle(apdu: Buffer): Promise<Buffer>;
  /** Power off / on / reset: the PIN is no longer verified. */
  reset(): void;
  readonly log: ApduRecord[];
  pinTriesLeft(): number;
  /** GENERAL AUTHENTICATE waits this long before answering, as a YubiKey waits for a touch. */
  setTouchDelay(milliseconds: number): void;
}

const PIV_AID = Buffer.from('a000000308', 'hex');
const YUBIKEY_5_ATR = Buffer.from('3bfd1300008131fe158073c021c057597562694b657940', 'hex');
const OBJECT_OF_SLOT: Readonly<Record<PivSlot, number>> = { 0x9a: 0x5fc105, 0x9c: 0x5fc10a, 0x9d: 0x5fc10b, 0x9e: 0x5fc101 };
const DEFAULT_POLICY: Readonly<Record<PivSlot, PinPolicy>> = { 0x9a: 'once', 0x9c: 'always', 0x9d: 'once', 0x9e: 'never' };
const MAX_PIN_TRIES = 3;

const SW_OK = 0x9000;
const SW_SECURITY_STATUS_NOT_SATISFIED = 0x6982;
const SW_AUTH_BLOCKED = 0x6983;
const SW_WRONG_DATA = 0x6a80;
const SW_FILE_NOT_FOUND = 0x6a82;
const SW_INCORRECT_P1P2 = 0x6a86;
const SW_REFERENCE_NOT_FOUND = 0x6a88;
const SW_INS_NOT_SUPPORTED = 0x6d00;

export function tlv(tag: number, value: Uint8Array): Buffer {
  const length = value.length;
  const header = length < 0x80 ? [length] : length < 0x100 ? [0x81, length] : [0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from([tag, ...header]), value]);
}

/** BER-TLV children of a constructed value: tag -> value (single-byte tags, as PIV uses). */
function readTlvs(data: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  while (at + 2 <= data.length) {
    const tag = data[at] as number;
    let length = data[at + 1] as number;
    let start = at + 2;
    if (length === 0x81) {
      length = data[at + 2] as number;
      start = at + 3;
    } else if (length === 0x82) {
      length = ((data[at + 2] as number) << 8) | (data[at + 3] as number);
      start = at + 4;
    }
    out.set(tag, data.subarray(start, start + length));
    at = start + length;
  }
  return out;
}

export function createVirtualPivCard(options: VirtualPivCardOptions): VirtualPivCard {
  const pin = Buffer.from(options.pin.padEnd(8, '\xff'), 'latin1');
  const slots = new Map(options.slots.map((s) => [s.slot, { ...s, pinPolicy: s.pinPolicy ?? DEFAULT_POLICY[s.slot] }]));
  const firmware = options.firmware ?? [5, 4, 3];
  const log: ApduRecord[] = [];
  let triesLeft = MAX_PIN_TRIES;
  let verified = false;
  let verifiedJustBefore = false;
  let pending: Buffer = Buffer.alloc(0);
  let chained: Buffer = Buffer.alloc(0);
  let touchDelay = 0;

  const reply = (status: number, data: Buffer = Buffer.alloc(0)): Buffer => Buffer.concat([data, Buffer.from([status >> 8, status & 0xff])]);

  /** Short APDUs carry 256 bytes at most: the rest waits for GET RESPONSE (61xx). */
  const respond = (data: Buffer): Buffer => {
    if (data.length <= 256) return reply(SW_OK, data);
    pending = data.subarray(256);
    return reply(0x6100 | Math.min(pending.length, 0xff), data.subarray(0, 256));
  };

  const verify = (p2: number, data: Buffer): number => {
    if (p2 !== 0x80) return SW_REFERENCE_NOT_FOUND;
    if (triesLeft === 0) return SW_AUTH_BLOCKED;
    if (data.length === 0) return verified ? SW_OK : 0x63c0 | triesLeft;
    if (!data.equals(pin)) {
      triesLeft--;
      verified = false;
      return triesLeft === 0 ? SW_AUTH_BLOCKED : 0x63c0 | triesLeft;
    }
    triesLeft = MAX_PIN_TRIES;
    verified = true;
    verifiedJustBefore = true;
    return SW_OK;
  };

  const generalAuthenticate = async (p1: number, p2: number, data: Buffer, justVerified: boolean): Promise<Buffer> => {
    const slot = slots.get(p2 as PivSlot);
    if (slot === undefined) return reply(SW_INCORRECT_P1P2);
    const policyMet = slot.pinPolicy === 'never' || (verified && (slot.pinPolicy === 'once' || justVerified));
    if (!policyMet) return reply(SW_SECURITY_STATUS_NOT_SATISFIED);
    const template = readTlvs(data).get(0x7c);
    const challenge = template === undefined ? undefined : readTlvs(template).get(0x81);
    if (challenge === undefined) return reply(SW_WRONG_DATA);
    let signature: Buffer;
    if (p1 === 0x11 && slot.privateKey.asymmetricKeyType === 'ec') signature = ecdsaSignDigest(slot.privateKey, challenge);
    else if (p1 === 0x07 && slot.privateKey.asymmetricKeyType === 'rsa') signature = privateEncrypt({ key: slot.privateKey, padding: constants.RSA_NO_PADDING }, challenge);
    else return reply(SW_INCORRECT_P1P2);
    if (touchDelay > 0) await new Promise((resolve) => setTimeout(resolve, touchDelay));
    return respond(tlv(0x7c, tlv(0x82, signature)));
  };

  const getData = (data: Buffer): Buffer => {
    const tag = readTlvs(data).get(0x5c);
    const id = tag !== undefined && tag.length === 3 ? tag.readUIntBE(0, 3) : -1;
    const slot = [...slots.values()].find((s) => OBJECT_OF_SLOT[s.slot] === id);
    if (slot === undefined) return reply(SW_FILE_NOT_FOUND);
    return respond(tlv(0x53, Buffer.concat([tlv(0x70, slot.certificate), tlv(0x71, Buffer.from([0])), tlv(0xfe, Buffer.alloc(0))])));
  };

  const handle = async (apdu: Buffer): Promise<Buffer> => {
    const [cla = 0, ins = 0, p1 = 0, p2 = 0] = apdu;
    let data = apdu.length > 5 ? apdu.subarray(5, 5 + (apdu[4] as number)) : Buffer.alloc(0);
    if ((cla & 0x10) !== 0) {
      // command chaining: collect until the last part (CLA without bit 0x10)
      chained = Buffer.concat([chained, data]);
      return reply(SW_OK);
    }
    if (chained.length > 0) {
      data = Buffer.concat([chained, data]);
      chained = Buffer.alloc(0);
    }
    const justVerified = verifiedJustBefore;
    if (ins !== 0x20) verifiedJustBefore = false;
    let response: Buffer;
    switch (ins) {
      case 0xa4: // SELECT
        response = p1 === 0x04 && data.subarray(0, PIV_AID.length).equals(PIV_AID)
          ? reply(SW_OK, tlv(0x61, Buffer.concat([tlv(0x4f, Buffer.from('000010000100', 'hex')), tlv(0x79, tlv(0x4f, PIV_AID))])))
          : reply(SW_FILE_NOT_FOUND);
        break;
      case 0xfd: // YubiKey GET VERSION
        response = reply(SW_OK, Buffer.from(firmware));
        break;
      case 0xf8: { // YubiKey GET SERIAL
        const serial = Buffer.alloc(4);
        serial.writeUInt32BE(options.serial);
        response = reply(SW_OK, serial);
        break;
      }
      case 0xc0: { // GET RESPONSE
        const rest = pending;
        pending = Buffer.alloc(0);
        response = respond(rest);
        break;
      }
      case 0xcb: // GET DATA
        response = getData(data);
        break;
      case 0x20: // VERIFY
        response = reply(verify(p2, data));
        break;
      case 0x87: // GENERAL AUTHENTICATE
        response = await generalAuthenticate(p1, p2, data, justVerified);
        break;
      default:
        response = reply(SW_INS_NOT_SUPPORTED);
    }
    log.push({ ins, p1, p2, dataLength: data.length, status: response.readUInt16BE(response.length - 2) });
    return response;
  };

  return {
    atr: YUBIKEY_5_ATR,
    serial: options.serial,
    handle,
    reset() {
      verified = false;
      verifiedJustBefore = false;
      pending = Buffer.alloc(0);
      chained = Buffer.alloc(0);
    },
    log,
    pinTriesLeft: () => triesLeft,
    setTouchDelay(milliseconds) {
      touchDelay = milliseconds;
    },
  };
}

// NIST P-256 (FIPS 186-4 D.1.2.3).
const P256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

type Point = { x: bigint; y: bigint } | null;

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(p1: Point, p2: Point): Point {
  if (p1 === null) return p2;
  if (p2 === null) return p1;
  const { p, a } = P256;
  if (p1.x === p2.x && mod(p1.y + p2.y, p) === 0n) return null;
  const lambda = p1.x === p2.x && p1.y === p2.y
    ? mod((3n * p1.x * p1.x + a) * inverse(2n * p1.y, p), p)
    : mod((p2.y - p1.y) * inverse(p2.x - p1.x, p), p);
  const x = mod(lambda * lambda - p1.x - p2.x, p);
  return { x, y: mod(lambda * (p1.x - x) - p1.y, p) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

/**
 * ECDSA P-256 over a digest the caller already made, as a card does (node:crypto always hashes
 * first, so it cannot). DER SEQUENCE{r,s}, the encoding PIV returns. Test double only: not
 * constant-time.
 */
export function ecdsaSignDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || jwk.d === undefined) throw new Error('the virtual card signs with EC P-256 keys only');
  const d = BigInt(`0x${Buffer.from(jwk.d, 'base64url').toString('hex')}`);
  const e = BigInt(`0x${Buffer.from(digest.subarray(0, 32)).toString('hex') || '0'}`);
  const { n, gx, gy } = P256;
  for (;;) {
    const k = mod(BigInt(`0x${randomBytes(40).toString('hex')}`), n - 1n) + 1n;
    const r = mod((multiply(k, { x: gx, y: gy }) as { x: bigint }).x, n);
    if (r === 0n) continue;
    const s = mod(inverse(k, n) * (e + r * d), n);
    if (s === 0n) continue;
    const bytes = (v: bigint): Uint8Array => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
    return Buffer.from(ecdsaIntegersToDer(bytes(r), bytes(s)));
  }
}
