import { SignerError, type SignerErrorCode } from '../../errors.js';
import { TPM_HEADER_SIZE, TPM_RH, TPM_ST } from './constants.js';

/**
 * Big-endian TPM 2.0 marshalling (Part 1, 18; Part 2 for the structures). A writer builds
 * command bytes; a reader takes response and key-file bytes apart and refuses to read past
 * the end, so a truncated or foreign blob becomes one clear error instead of garbage.
 */
export class TpmWriter {
  readonly #chunks: Buffer[] = [];

  u8(value: number): this {
    this.#chunks.push(Buffer.from([value & 0xff]));
    return this;
  }

  u16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value & 0xffff);
    this.#chunks.push(b);
    return this;
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0);
    this.#chunks.push(b);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#chunks.push(Buffer.from(value));
    return this;
  }

  /** A TPM2B: 16-bit size, then the bytes. */
  sized(value: Uint8Array): this {
    if (value.length > 0xffff) throw new SignerError('INTERNAL', `a TPM2B cannot hold ${value.length} bytes`);
    return this.u16(value.length).bytes(value);
  }

  /** A TPM2B around a structure built by `build` (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE). */
  sizedStructure(build: (writer: TpmWriter) => void): this {
    const inner = new TpmWriter();
    build(inner);
    return this.sized(inner.toBuffer());
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /** Zeroes the pieces, for writers that held a password. */
  wipe(): void {
    for (const chunk of this.#chunks) chunk.fill(0);
  }
}

/** What a reader says when the bytes run out or are malformed, and which code it throws. */
export interface ReaderContext {
  readonly what: string;
  readonly code: SignerErrorCode;
}

export class TpmReader {
  readonly #buffer: Buffer;
  readonly #context: ReaderContext;
  #offset = 0;

  constructor(buffer: Uint8Array, context: ReaderContext) {
    this.#buffer = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.#context = context;
  }

  get remaining(): number {
    return this.#buffer.length - this.#offset;
  }

  u8(): number {
    const value = this.#take(1).readUInt8(0);
    return value;
  }

  u16(): number {
    return this.#take(2).readUInt16BE(0);
  }

  u32(): number {
    return this.#take(4).readUInt32BE(0);
  }

  bytes(length: number): Buffer {
    return Buffer.from(this.#take(length));
  }

  /** The contents of a TPM2B (without its size). */
  sized(): Buffer {
    return this.bytes(this.u16());
  }

  /** A reader over the contents of the next TPM2B, for nested structures. */
  sizedReader(what: string): TpmReader {
    return new TpmReader(this.sized(), { ...this.#context, what });
  }

  /** Fails when bytes are left over: a longer structure than expected is not what we think. */
  end(): void {
    if (this.remaining !== 0) {
      throw new SignerError(this.#context.code, `${this.#context.what} has ${this.remaining} unexpected trailing byte(s)`);
    }
  }

  /** An error about this structure, for the caller to throw. */
  fail(problem: string): SignerError {
    return new SignerError(this.#context.code, `${this.#context.what} ${problem}`);
  }

  #take(length: number): Buffer {
    if (length > this.remaining) {
      throw new SignerError(
        this.#context.code,
        `${this.#context.what} is truncated: needed ${length} byte(s) at offset ${this.#offset}, ${this.remaining} left`,
      );
    }
    const slice = this.#buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }
}

/** One TPMS_AUTH_COMMAND with the password session: the only session kind this layer uses. */
export interface PasswordAuthorization {
  /** The authValue; empty for objects and hierarchies without a password. Never logged. */
  readonly password: Uint8Array;
}

export interface CommandFrame {
  readonly commandCode: number;
  readonly handles: readonly number[];
  /** One per handle that needs authorization, in handle order; none means TPM_ST_NO_SESSIONS. */
  readonly authorizations: readonly PasswordAuthorization[];
  readonly parameters: Uint8Array;
}

/** Command header, handle area, authorization area, parameter area (Part 1, 18.2). */
export function buildCommand(frame: CommandFrame): Buffer {
  const body = new TpmWriter();
  for (const handle of frame.handles) body.u32(handle);
  if (frame.authorizations.length > 0) {
    const area = new TpmWriter();
    for (const auth of frame.authorizations) {
      // TPMS_AUTH_COMMAND for TPM_RS_PW: empty nonce, no attributes, the password as the HMAC.
      area.u32(TPM_RH.PW).sized(new Uint8Array(0)).u8(0).sized(auth.password);
    }
    const areaBytes = area.toBuffer();
    area.wipe();
    body.u32(areaBytes.length).bytes(areaBytes);
    areaBytes.fill(0);
  }
  body.bytes(frame.parameters);
  const bodyBytes = body.toBuffer();
  body.wipe();
  const tag = frame.authorizations.length > 0 ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS;
  const header = new TpmWriter().u16(tag).u32(TPM_HEADER_SIZE + bodyBytes.length).u32(frame.commandCode).toBuffer();
  const command = Buffer.concat([header, bodyBytes]);
  bodyBytes.fill(0);
  return command;
}

export interface ResponseHeader {
  readonly tag: number;
  readonly size: number;
  readonly responseCode: number;
}

/** Reads the 10-byte header; the transport already checked that `size` bytes arrived. */
export function parseResponseHeader(response: Uint8Array, what: string): ResponseHeader {
  const reader = new TpmReader(response, { what, code: 'TPM_TRANSPORT_FAILED' });
  const tag = reader.u16();
  const size = reader.u32();
  const responseCode = reader.u32();
  if (tag !== TPM_ST.NO_SESSIONS && tag !== TPM_ST.SESSIONS && tag !== TPM_ST.RSP_COMMAND) {
    throw reader.fail(`has tag 0x${tag.toString(16)}, which no TPM 2.0 response has: the other end does not speak the TPM 2.0 command protocol`);
  }
  if (size !== response.length) throw reader.fail(`says it is ${size} bytes long but ${response.length} arrived`);
  return { tag, size, responseCode };
}

export interface ResponseBody {
  /** Handles the TPM returned in the handle area (CreatePrimary, Load). */
  readonly handles: readonly number[];
  /** A reader over exactly the parameter area. */
  readonly parameters: TpmReader;
}

/**
 * Splits a successful response into handles and parameters (Part 1, 18.8). With sessions the
 * parameter area is preceded by its size and followed by the authorization area, which for
 * password sessions holds nothing we need.
 */
export function parseResponseBody(response: Uint8Array, handleCount: number, what: string): ResponseBody {
  const reader = new TpmReader(response, { what, code: 'TPM_TRANSPORT_FAILED' });
  const tag = reader.u16();
  reader.u32();
  reader.u32();
  const handles: number[] = [];
  for (let i = 0; i < handleCount; i++) handles.push(reader.u32());
  if (tag === TPM_ST.SESSIONS) {
    const parameterSize = reader.u32();
    return { handles, parameters: new TpmReader(reader.bytes(parameterSize), { what, code: 'TPM_TRANSPORT_FAILED' }) };
  }
  return { handles, parameters: new TpmReader(reader.bytes(reader.remaining), { what, code: 'TPM_TRANSPORT_FAILED' }) };
}
