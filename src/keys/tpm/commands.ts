import { SignerError } from '../../errors.js';
import { TPM_ALG, TPM_CAP, TPM_CC, TPM_RH, TPM_ST, TPM_SU } from './constants.js';
import { TpmWriter, type CommandFrame, type ResponseBody, type TpmReader } from './marshal.js';
import { parsePublicArea, readPublicArea, writePublicArea, type TpmPublicArea } from './public-area.js';

/**
 * Typed builders and parsers for the TPM 2.0 commands this project sends (TPM 2.0 Library
 * Part 3). A command is a frame plus the code that decodes its response; TpmClient.run sends
 * it. Nothing here does I/O, so every builder is tested against known bytes.
 */
export interface TpmCommand<Result> {
  /** The spec's name, for messages: `TPM2_Sign`. */
  readonly name: string;
  readonly frame: CommandFrame;
  /** How many handles the response carries before its parameters. */
  readonly responseHandles: number;
  decode(body: ResponseBody): Result;
}

const EMPTY = new Uint8Array(0);

/** TPM2_Startup: needed once after the TPM is reset (a fresh swtpm without startup-clear). */
export function startupCommand(startupType: number = TPM_SU.CLEAR): TpmCommand<void> {
  return {
    name: 'TPM2_Startup',
    frame: { commandCode: TPM_CC.Startup, handles: [], authorizations: [], parameters: new TpmWriter().u16(startupType).toBuffer() },
    responseHandles: 0,
    decode: (body) => body.parameters.end(),
  };
}

export interface CreatedPrimary {
  readonly handle: number;
  readonly publicArea: TpmPublicArea;
  readonly name: Buffer;
}

/** TPM2_CreatePrimary with no sensitive data, no outside info and no PCR selection. */
export function createPrimaryCommand(args: {
  readonly hierarchy: number;
  readonly hierarchyAuth: Uint8Array;
  readonly template: TpmPublicArea;
}): TpmCommand<CreatedPrimary> {
  const parameters = creationParameters(EMPTY, args.template);
  return {
    name: 'TPM2_CreatePrimary',
    frame: { commandCode: TPM_CC.CreatePrimary, handles: [args.hierarchy], authorizations: [{ password: args.hierarchyAuth }], parameters },
    responseHandles: 1,
    decode: ({ handles, parameters: r }) => {
      const publicArea = readPublicArea(r.sizedReader('TPM2_CreatePrimary outPublic'));
      skipCreationRecord(r);
      const name = r.sized();
      r.end();
      return { handle: firstHandle(handles), publicArea, name };
    },
  };
}

export interface CreatedObject {
  /** TPM2B_PRIVATE as the TPM returned it, size included: what a key file stores. */
  readonly privateBlob: Buffer;
  /** TPM2B_PUBLIC, size included. */
  readonly publicBlob: Buffer;
  readonly publicArea: TpmPublicArea;
}

/**
 * TPM2_Create: a new key under a loaded storage parent, generated inside the TPM and returned
 * wrapped by the parent (Part 3, 12.1). `userAuth` is the new key's password (empty for none);
 * the command bytes holding it are zeroed by TpmClient after sending.
 */
export function createCommand(args: {
  readonly parentHandle: number;
  readonly parentAuth: Uint8Array;
  readonly userAuth: Uint8Array;
  readonly template: TpmPublicArea;
}): TpmCommand<CreatedObject> {
  const parameters = creationParameters(args.userAuth, args.template);
  return {
    name: 'TPM2_Create',
    frame: { commandCode: TPM_CC.Create, handles: [args.parentHandle], authorizations: [{ password: args.parentAuth }], parameters },
    responseHandles: 0,
    decode: ({ parameters: r }) => {
      const privateArea = r.sized();
      const publicArea = r.sized();
      skipCreationRecord(r);
      r.end();
      return {
        privateBlob: withSize(privateArea),
        publicBlob: withSize(publicArea),
        publicArea: parsePublicArea(publicArea, { what: 'the TPM2_Create outPublic', code: 'TPM_TRANSPORT_FAILED' }),
      };
    },
  };
}

/**
 * TPM2_EvictControl: makes a loaded key persistent at `persistentHandle` (Part 3, 28.5). The
 * owner hierarchy authorizes it; the object handle needs no authorization.
 */
export function evictControlCommand(args: {
  readonly authHandle: number;
  readonly auth: Uint8Array;
  readonly objectHandle: number;
  readonly persistentHandle: number;
}): TpmCommand<void> {
  return {
    name: 'TPM2_EvictControl',
    frame: {
      commandCode: TPM_CC.EvictControl,
      handles: [args.authHandle, args.objectHandle],
      authorizations: [{ password: args.auth }],
      parameters: new TpmWriter().u32(args.persistentHandle).toBuffer(),
    },
    responseHandles: 0,
    decode: (body) => body.parameters.end(),
  };
}

/**
 * The parameters TPM2_CreatePrimary and TPM2_Create share: TPM2B_SENSITIVE_CREATE { userAuth,
 * data: empty, so the TPM makes the key }, the template, no outsideInfo, no PCR selection. The
 * writer's pieces are wiped: userAuth is a password.
 */
function creationParameters(userAuth: Uint8Array, template: TpmPublicArea): Buffer {
  const writer = new TpmWriter()
    .sizedStructure((w) => w.sized(userAuth).sized(EMPTY))
    .sizedStructure((w) => writePublicArea(w, template))
    .sized(EMPTY)
    .u32(0);
  const parameters = writer.toBuffer();
  writer.wipe();
  return parameters;
}

/** creationData, creationHash and creationTicket: what the TPM attests about a creation, unused here. */
function skipCreationRecord(r: TpmReader): void {
  r.sized(); // creationData
  r.sized(); // creationHash
  r.u16(); // creationTicket.tag
  r.u32(); // creationTicket.hierarchy
  r.sized(); // creationTicket.digest
}

function withSize(contents: Buffer): Buffer {
  return new TpmWriter().sized(contents).toBuffer();
}

export interface LoadedObject {
  readonly handle: number;
  readonly name: Buffer;
}

/** TPM2_Load: `inPrivate` and `inPublic` are TPM2Bs as a key file stores them, sizes included. */
export function loadCommand(args: {
  readonly parentHandle: number;
  readonly parentAuth: Uint8Array;
  readonly inPrivate: Uint8Array;
  readonly inPublic: Uint8Array;
}): TpmCommand<LoadedObject> {
  return {
    name: 'TPM2_Load',
    frame: {
      commandCode: TPM_CC.Load,
      handles: [args.parentHandle],
      authorizations: [{ password: args.parentAuth }],
      parameters: new TpmWriter().bytes(args.inPrivate).bytes(args.inPublic).toBuffer(),
    },
    responseHandles: 1,
    decode: ({ handles, parameters: r }) => {
      const name = r.sized();
      r.end();
      return { handle: firstHandle(handles), name };
    },
  };
}

export interface ReadPublicResult {
  readonly publicArea: TpmPublicArea;
  readonly name: Buffer;
  readonly qualifiedName: Buffer;
}

export function readPublicCommand(handle: number): TpmCommand<ReadPublicResult> {
  return {
    name: 'TPM2_ReadPublic',
    frame: { commandCode: TPM_CC.ReadPublic, handles: [handle], authorizations: [], parameters: EMPTY },
    responseHandles: 0,
    decode: ({ parameters: r }) => {
      const inner = r.sizedReader('TPM2_ReadPublic outPublic');
      const publicArea = readPublicArea(inner);
      inner.end();
      const name = r.sized();
      const qualifiedName = r.sized();
      r.end();
      return { publicArea, name, qualifiedName };
    },
  };
}

export type TpmSignature =
  | { readonly sigAlg: typeof TPM_ALG.ECDSA; readonly hashAlg: number; readonly r: Buffer; readonly s: Buffer }
  | { readonly sigAlg: typeof TPM_ALG.RSASSA; readonly hashAlg: number; readonly signature: Buffer };

/**
 * TPM2_Sign over a digest computed on the host. The validation ticket is the NULL ticket,
 * which unrestricted keys accept (Part 3, 20.2).
 */
export function signCommand(args: {
  readonly keyHandle: number;
  readonly keyAuth: Uint8Array;
  readonly digest: Uint8Array;
  readonly scheme: typeof TPM_ALG.ECDSA | typeof TPM_ALG.RSASSA;
  readonly hashAlg: number;
}): TpmCommand<TpmSignature> {
  const parameters = new TpmWriter()
    .sized(args.digest)
    .u16(args.scheme)
    .u16(args.hashAlg)
    .u16(TPM_ST.HASHCHECK)
    .u32(TPM_RH.NULL)
    .sized(EMPTY)
    .toBuffer();
  return {
    name: 'TPM2_Sign',
    frame: { commandCode: TPM_CC.Sign, handles: [args.keyHandle], authorizations: [{ password: args.keyAuth }], parameters },
    responseHandles: 0,
    decode: ({ parameters: r }) => {
      const sigAlg = r.u16();
      const hashAlg = r.u16();
      let signature: TpmSignature;
      if (sigAlg === TPM_ALG.ECDSA) {
        signature = { sigAlg, hashAlg, r: r.sized(), s: r.sized() };
      } else if (sigAlg === TPM_ALG.RSASSA) {
        signature = { sigAlg, hashAlg, signature: r.sized() };
      } else {
        throw r.fail(`carries a signature of algorithm 0x${sigAlg.toString(16)}, not the ECDSA or RSASSA that was asked for`);
      }
      r.end();
      return signature;
    },
  };
}

/** TPM2_FlushContext: the handle is a parameter, not in the handle area (Part 3, 28.4). */
export function flushContextCommand(handle: number): TpmCommand<void> {
  return {
    name: 'TPM2_FlushContext',
    frame: { commandCode: TPM_CC.FlushContext, handles: [], authorizations: [], parameters: new TpmWriter().u32(handle).toBuffer() },
    responseHandles: 0,
    decode: (body) => body.parameters.end(),
  };
}

export type CapabilityData =
  | { readonly capability: typeof TPM_CAP.HANDLES; readonly handles: readonly number[] }
  | { readonly capability: typeof TPM_CAP.ALGS; readonly algorithms: readonly { readonly alg: number; readonly attributes: number }[] }
  | { readonly capability: typeof TPM_CAP.TPM_PROPERTIES; readonly properties: readonly { readonly property: number; readonly value: number }[] }
  | { readonly capability: typeof TPM_CAP.ECC_CURVES; readonly curves: readonly number[] };

export interface CapabilityResult {
  /** The TPM had more entries than it returned; ask again from after the last one. */
  readonly moreData: boolean;
  readonly data: CapabilityData;
}

export function getCapabilityCommand(args: {
  readonly capability: CapabilityData['capability'];
  readonly property: number;
  readonly propertyCount: number;
}): TpmCommand<CapabilityResult> {
  return {
    name: 'TPM2_GetCapability',
    frame: {
      commandCode: TPM_CC.GetCapability,
      handles: [],
      authorizations: [],
      parameters: new TpmWriter().u32(args.capability).u32(args.property).u32(args.propertyCount).toBuffer(),
    },
    responseHandles: 0,
    decode: ({ parameters: r }) => {
      const moreData = r.u8() !== 0;
      const capability = r.u32();
      const count = r.u32();
      // Each entry is at least 2 bytes: a count beyond that is a corrupt response, not a loop.
      if (count > r.remaining / 2) throw r.fail(`claims ${count} entries in ${r.remaining} bytes`);
      let data: CapabilityData;
      if (capability === TPM_CAP.HANDLES) {
        data = { capability, handles: Array.from({ length: count }, () => r.u32()) };
      } else if (capability === TPM_CAP.ALGS) {
        data = { capability, algorithms: Array.from({ length: count }, () => ({ alg: r.u16(), attributes: r.u32() })) };
      } else if (capability === TPM_CAP.TPM_PROPERTIES) {
        data = { capability, properties: Array.from({ length: count }, () => ({ property: r.u32(), value: r.u32() })) };
      } else if (capability === TPM_CAP.ECC_CURVES) {
        data = { capability, curves: Array.from({ length: count }, () => r.u16()) };
      } else {
        throw r.fail(`answers capability 0x${capability.toString(16)}, which was not asked for`);
      }
      r.end();
      return { moreData, data };
    },
  };
}

function firstHandle(handles: readonly number[]): number {
  const handle = handles[0];
  if (handle === undefined) throw new SignerError('TPM_TRANSPORT_FAILED', 'the TPM response carries no object handle');
  return handle;
}
