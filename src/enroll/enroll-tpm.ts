import { lstatSync, unlinkSync } from 'node:fs';
import { encodePem } from '../certs/pem.js';
import { silent, type DebugLog } from '../debug.js';
import { SignerError, isSignerError } from '../errors.js';
import { createPrivateFile } from '../fs/private-file.js';
import { openKeySource } from '../keys/index.js';
import { TPM_KEY_PASSWORD_ENV_VAR, type TpmKeySpec } from '../keys/spec.js';
import { TpmClient, tpmFailureOf } from '../keys/tpm/client.js';
import { createCommand, createPrimaryCommand, evictControlCommand, loadCommand, readPublicCommand, type CreatedObject } from '../keys/tpm/commands.js';
import { TPMA_OBJECT, TPM_ECC_CURVE, TPM_HT, TPM_RH } from '../keys/tpm/constants.js';
import { encodeTss2KeyFilePem } from '../keys/tpm/keyfile-encode.js';
import { handleText, hex8, isMissingObject, storagePrimaryError } from '../keys/tpm/errors.js';
import { pathKindOf } from '../keys/tpm/path-kind.js';
import { publicKeyOf, type TpmPublicArea } from '../keys/tpm/public-area.js';
import { TPM_RC } from '../keys/tpm/response-code.js';
import { describeTarget, resolveTpmTarget, type PathKind, type TpmTarget } from '../keys/tpm/tcti.js';
import { ECC_P256_STORAGE_PRIMARY, eccSigningKeyTemplate, rsaSigningKeyTemplate } from '../keys/tpm/templates.js';
import { openTransport, type TpmTransport } from '../keys/tpm/transport.js';
import { buildCertificateRequest } from './csr.js';
import { describeEnrollKeyType, type EnrollKeyType } from './key-types.js';
import { encodeSubject, parseSubject } from './subject.js';

/** TPM_RC_NV_DEFINED: EvictControl found the persistent handle taken (Part 2, 6.6.3). */
const TPM_RC_NV_DEFINED = 0x14c;

/** Owner-hierarchy persistent objects live here; 0x81800000 and up belong to the platform (Part 2, 7.5). */
const OWNER_PERSISTENT_FIRST = 0x81000000;
const OWNER_PERSISTENT_LAST = 0x817fffff;

export interface TpmEnrollIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pathKind: (path: string) => PathKind;
  readonly openTransport: (target: TpmTarget) => Promise<TpmTransport>;
}

export interface TpmEnrollOptions {
  /** The TSS2 PRIVATE KEY file to create (it must not exist). */
  readonly keyFile?: string;
  /** Also (or only, without keyFile) make the key persistent at this handle. */
  readonly persistentHandle?: number;
  /** A persistent storage key to create the key under; default: the owner hierarchy's SRK. */
  readonly parentHandle?: number;
  readonly keyType: EnrollKeyType;
  /** RFC 4514 subject, e.g. "CN=build-01,O=Example". */
  readonly subject: string;
  /** The new key's password; else ROLES_ANYWHERE_TPM_KEY_PASSWORD; else none. */
  readonly password?: { readonly value: string };
  /** --no-tpm-key-password: no password even when the variable is set. */
  readonly noPassword?: boolean;
  readonly tcti?: string;
  readonly debug?: DebugLog;
  /** Stores the request (e.g. writes --out); if it throws, the new key is removed again. */
  readonly deliver?: (csrPem: string) => void;
  readonly io?: Partial<TpmEnrollIO>;
}

export interface TpmKeyAttributes {
  readonly fixedTPM: boolean;
  readonly fixedParent: boolean;
  readonly sensitiveDataOrigin: boolean;
  readonly userWithAuth: boolean;
  readonly sign: boolean;
  readonly decrypt: boolean;
  readonly restricted: boolean;
}

export interface TpmEnrollResult {
  readonly keyFile?: string;
  readonly persistentHandle?: number;
  /** 0x40000001 (the SRK re-created from the owner hierarchy) or the persistent parent. */
  readonly parent: number;
  readonly keyType: EnrollKeyType;
  readonly passwordProtected: boolean;
  /** The TPM as messages name it, e.g. `swtpm 127.0.0.1:2321`. */
  readonly tpm: string;
  /** The TCTI given, if any: next steps repeat it. */
  readonly tcti?: string;
  readonly attributes: TpmKeyAttributes;
  readonly csrDer: Uint8Array;
  readonly csrPem: string;
}

const defaultIO: TpmEnrollIO = {
  env: process.env,
  pathKind: pathKindOf,
  openTransport: (target) => openTransport(target),
};

/**
 * `enroll --tpm`: TPM2_Create makes a signing key inside the TPM under the SRK (or a persistent
 * parent); the wrapped key is saved as a TSS2 PRIVATE KEY file (0600, never over an existing
 * file) and/or made persistent. Then the project's own TPM key source, the one
 * credential-process uses, signs the certificate request, so the request proves the key works
 * as signing later will. Every check that can fail without the TPM runs before it is touched;
 * if a step after creation fails, the file is removed and the persistent handle freed again.
 */
export async function enrollTpmKey(options: TpmEnrollOptions): Promise<TpmEnrollResult> {
  const debug = options.debug ?? silent;
  const io: TpmEnrollIO = { ...defaultIO, ...options.io };
  const subject = encodeSubject(parseSubject(options.subject));
  if (options.keyFile === undefined && options.persistentHandle === undefined) {
    throw new SignerError('USAGE', 'enroll --tpm needs --private-key FILE (a new TSS2 key file) or --private-key handle:0x81000010 (a persistent handle)');
  }
  if (options.keyFile !== undefined) assertKeyFileIsNew(options.keyFile);
  if (options.persistentHandle !== undefined) assertOwnerPersistentHandle(options.persistentHandle, 'the persistent handle');
  const parent = options.parentHandle ?? TPM_RH.OWNER;
  if (parent !== TPM_RH.OWNER) assertOwnerPersistentHandle(parent, '--parent-handle');
  const password = enrollPassword(options, io.env);

  const target = resolveTpmTarget(options.tcti, io);
  const where = describeTarget(target);
  let created: CreatedObject;
  const transport = await io.openTransport(target);
  try {
    const client = new TpmClient(transport);
    if (options.persistentHandle !== undefined) await assertHandleFree(client, options.persistentHandle, where);
    debug(`TPM at ${where}; creating ${describeEnrollKeyType(options.keyType)} under ${parent === TPM_RH.OWNER ? 'the owner hierarchy\'s storage key (SRK)' : handleText(parent)}`);
    created = await createUnderParent(client, parent, password, options.keyType, where);
    if (options.persistentHandle !== undefined) {
      await persist(client, parent, created, options.persistentHandle, where);
      debug(`made persistent at ${handleText(options.persistentHandle)}`);
    }
  } finally {
    password.fill(0);
    await transport.close().catch(() => undefined);
  }

  let keyFileWritten = false;
  try {
    if (options.keyFile !== undefined) {
      const pem = encodeTss2KeyFilePem({ emptyAuth: !passwordGiven(options, io.env), parent, publicBlob: created.publicBlob, privateBlob: created.privateBlob });
      try {
        await createPrivateFile(options.keyFile, pem);
      } catch (cause) {
        throw new SignerError('USAGE', `cannot create the key file ${options.keyFile} (${(cause as NodeJS.ErrnoException).code ?? 'error'}): choose a new file in a writable directory`, { cause });
      }
      keyFileWritten = true;
      debug(`wrote ${options.keyFile} (mode 0600)`);
    }
    const publicKey = publicKeyOf(created.publicArea, options.keyFile ?? handleText(options.persistentHandle as number));
    const spec: TpmKeySpec = {
      kind: 'tpm',
      ...(options.keyFile !== undefined ? { keyFile: options.keyFile } : { handle: options.persistentHandle as number }),
      // The password and the TPM as resolved above, so the source cannot read other ones.
      password: { value: passwordGiven(options, io.env) ? (options.password?.value ?? io.env[TPM_KEY_PASSWORD_ENV_VAR] ?? '') : '' },
      noPassword: !passwordGiven(options, io.env),
      tcti: options.tcti ?? tctiOf(target),
    };
    const source = await openKeySource(spec, { debug });
    let csrDer: Uint8Array;
    try {
      csrDer = await buildCertificateRequest({ subject, publicKey, keyType: source.keyType, sign: (message) => source.sign(message, 'SHA256') });
    } finally {
      await source.close();
    }
    const csrPem = encodePem('CERTIFICATE REQUEST', csrDer);
    options.deliver?.(csrPem);
    return {
      ...(options.keyFile !== undefined ? { keyFile: options.keyFile } : {}),
      ...(options.persistentHandle !== undefined ? { persistentHandle: options.persistentHandle } : {}),
      parent,
      keyType: options.keyType,
      passwordProtected: passwordGiven(options, io.env),
      tpm: where,
      ...(options.tcti !== undefined ? { tcti: options.tcti } : {}),
      attributes: attributesOf(created.publicArea),
      csrDer,
      csrPem,
    };
  } catch (error) {
    if (keyFileWritten) {
      try {
        unlinkSync(options.keyFile as string);
      } catch {
        // already gone
      }
    }
    if (options.persistentHandle !== undefined) await evictQuietly(io, target, options.persistentHandle);
    debug('the new key was removed again because enrolment did not complete');
    throw error;
  }
}

/** The TCTI string naming a resolved target, for the key source that signs the request. */
function tctiOf(target: TpmTarget): string {
  switch (target.kind) {
    case 'device':
      return `device:${target.path}`;
    case 'unix':
      return `unix:${target.path}`;
    case 'tcp':
      return `swtpm:host=${target.host},port=${target.port}`;
  }
}

function passwordGiven(options: TpmEnrollOptions, env: TpmEnrollIO['env']): boolean {
  if (options.noPassword === true) return false;
  if (options.password !== undefined) return options.password.value !== '';
  return (env[TPM_KEY_PASSWORD_ENV_VAR] ?? '') !== '';
}

function enrollPassword(options: TpmEnrollOptions, env: TpmEnrollIO['env']): Buffer {
  if (!passwordGiven(options, env)) return Buffer.alloc(0);
  return Buffer.from(options.password?.value ?? env[TPM_KEY_PASSWORD_ENV_VAR] ?? '', 'utf8');
}

function assertKeyFileIsNew(path: string): void {
  let exists = true;
  try {
    lstatSync(path);
  } catch {
    exists = false;
  }
  if (exists) throw new SignerError('USAGE', `--private-key ${path} already exists: enroll never overwrites a key file; name a new file (nothing was created)`);
}

function assertOwnerPersistentHandle(handle: number, what: string): void {
  if (!Number.isInteger(handle) || handle < OWNER_PERSISTENT_FIRST || handle > OWNER_PERSISTENT_LAST) {
    throw new SignerError('USAGE', `${what} ${hex8(handle)} is not an owner persistent handle: use one in 0x81000000-0x817FFFFF`);
  }
}

async function assertHandleFree(client: TpmClient, handle: number, where: string): Promise<void> {
  const taken = await client.listHandles(TPM_HT.PERSISTENT);
  if (taken.includes(handle)) throw handleInUse(handle, where);
}

function handleInUse(handle: number, where: string, cause?: unknown): SignerError {
  return new SignerError(
    'TPM_HANDLE_IN_USE',
    `${handleText(handle)} already holds a key in the TPM at ${where}: choose another persistent handle (tpm2_getcap handles-persistent lists those in use); nothing was created`,
    cause === undefined ? undefined : { cause },
  );
}

function templateFor(keyType: EnrollKeyType): TpmPublicArea {
  switch (keyType) {
    case 'ec-p256':
      return eccSigningKeyTemplate(TPM_ECC_CURVE.NIST_P256);
    case 'ec-p384':
      return eccSigningKeyTemplate(TPM_ECC_CURVE.NIST_P384);
    case 'rsa-2048':
      return rsaSigningKeyTemplate(2048);
    case 'rsa-3072':
      return rsaSigningKeyTemplate(3072);
  }
}

/** The SRK is re-created (as the key source will on every load) and flushed; a persistent parent is used as is. */
async function createUnderParent(client: TpmClient, parent: number, password: Buffer, keyType: EnrollKeyType, where: string): Promise<CreatedObject> {
  let parentHandle = parent;
  let primary: number | undefined;
  if (parent === TPM_RH.OWNER) {
    try {
      primary = (await client.run(createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: Buffer.alloc(0), template: ECC_P256_STORAGE_PRIMARY }))).handle;
    } catch (error) {
      throw storagePrimaryError(error, { hierarchy: TPM_RH.OWNER, where, path: 'the new key' });
    }
    parentHandle = primary;
  } else {
    try {
      await client.run(readPublicCommand(parent));
    } catch (error) {
      if (isMissingObject(error, 1)) {
        throw new SignerError('TPM_PARENT_NOT_FOUND', `there is no key at ${handleText(parent)} in the TPM at ${where}: make a storage key persistent there first (tpm2_createprimary, tpm2_evictcontrol), or leave out --parent-handle to use the SRK; nothing was created`, { cause: error });
      }
      throw error;
    }
  }
  const command = createCommand({ parentHandle, parentAuth: Buffer.alloc(0), userAuth: password, template: templateFor(keyType) });
  try {
    return await client.run(command);
  } catch (error) {
    throw createError(error, keyType, parent, where);
  } finally {
    // The parameters hold the new key's password.
    command.frame.parameters.fill(0);
    if (primary !== undefined) await client.flush(primary).catch(() => undefined);
  }
}

function createError(error: unknown, keyType: EnrollKeyType, parent: number, where: string): unknown {
  const failure = tpmFailureOf(error);
  if (failure === undefined) return error;
  const base = failure.responseCode.base;
  if (base === TPM_RC.KEY_SIZE || base === TPM_RC.CURVE || base === TPM_RC.VALUE) {
    return new SignerError('KEY_TYPE_UNSUPPORTED', `the TPM at ${where} cannot create an ${describeEnrollKeyType(keyType)} key (${failure.responseCode.name}): choose another --key-type; nothing was created`, { cause: error });
  }
  if (isSignerError(error, 'TPM_AUTH_FAILED')) {
    return new SignerError('TPM_AUTH_FAILED', `the parent ${handleText(parent)} has a password, which enroll does not support: use a parent without a password, or leave out --parent-handle`, { cause: error });
  }
  if (parent !== TPM_RH.OWNER && (base === TPM_RC.TYPE || base === TPM_RC.ATTRIBUTES)) {
    return new SignerError('TPM_PARENT_NOT_FOUND', `${handleText(parent)} in the TPM at ${where} is not a storage key (${failure.responseCode.name}): give a restricted decryption key as --parent-handle, or leave it out to use the SRK; nothing was created`, { cause: error });
  }
  return new SignerError('TPM_COMMAND_FAILED', `the TPM at ${where} refused to create the key: ${failure.responseCode.text}`, { cause: error });
}

/** Load under the parent again, EvictControl to the handle, flush the transient copy. */
async function persist(client: TpmClient, parent: number, created: CreatedObject, handle: number, where: string): Promise<void> {
  let primary: number | undefined;
  let loaded: number | undefined;
  try {
    if (parent === TPM_RH.OWNER) {
      primary = (await client.run(createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: Buffer.alloc(0), template: ECC_P256_STORAGE_PRIMARY }))).handle;
    }
    loaded = (await client.run(loadCommand({ parentHandle: primary ?? parent, parentAuth: Buffer.alloc(0), inPrivate: created.privateBlob, inPublic: created.publicBlob }))).handle;
    try {
      await client.run(evictControlCommand({ authHandle: TPM_RH.OWNER, auth: Buffer.alloc(0), objectHandle: loaded, persistentHandle: handle }));
    } catch (error) {
      if (tpmFailureOf(error)?.responseCode.base === TPM_RC_NV_DEFINED) throw handleInUse(handle, where, error);
      if (isSignerError(error, 'TPM_AUTH_FAILED')) {
        throw new SignerError('TPM_AUTH_FAILED', `the owner hierarchy of the TPM at ${where} has a password, so enroll cannot make the key persistent: leave out the persistent handle and use the key file`, { cause: error });
      }
      throw error;
    }
  } finally {
    if (loaded !== undefined) await client.flush(loaded).catch(() => undefined);
    if (primary !== undefined) await client.flush(primary).catch(() => undefined);
  }
}

/** Undo of persist(): EvictControl on a persistent handle removes it. Best effort. */
async function evictQuietly(io: TpmEnrollIO, target: TpmTarget, handle: number): Promise<void> {
  try {
    const transport = await io.openTransport(target);
    try {
      await new TpmClient(transport).run(evictControlCommand({ authHandle: TPM_RH.OWNER, auth: Buffer.alloc(0), objectHandle: handle, persistentHandle: handle }));
    } finally {
      await transport.close();
    }
  } catch {
    // nothing was made persistent, or the TPM is gone: the original error says more
  }
}

function attributesOf(area: TpmPublicArea): TpmKeyAttributes {
  const has = (bit: number): boolean => (area.objectAttributes & bit) !== 0;
  return {
    fixedTPM: has(TPMA_OBJECT.fixedTPM),
    fixedParent: has(TPMA_OBJECT.fixedParent),
    sensitiveDataOrigin: has(TPMA_OBJECT.sensitiveDataOrigin),
    userWithAuth: has(TPMA_OBJECT.userWithAuth),
    sign: has(TPMA_OBJECT.sign),
    decrypt: has(TPMA_OBJECT.decrypt),
    restricted: has(TPMA_OBJECT.restricted),
  };
}
