import { createHash, type KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { describeReadFailure, readUserFile } from '../../files/read-user-file.js';
import { SignerError, isSignerError } from '../../errors.js';
import { ecdsaIntegersToDer } from '../ecdsa-signature.js';
import { defaultSecretIO, readSecret, type SecretIO } from '../secret.js';
import { TPM_KEY_PASSWORD_ENV_VAR, type TpmKeySpec } from '../spec.js';
import { sourcePublicKeyOf } from '../public-key.js';
import type { KeySource, KeyType, SignDigest, SourcePublicKey } from '../types.js';
import { TpmClient } from './client.js';
import {
  createPrimaryCommand,
  loadCommand,
  readPublicCommand,
  signCommand,
  type TpmSignature,
} from './commands.js';
import { TPM_ALG, TPM_HT } from './constants.js';
import { parseTss2KeyFile, type Tss2KeyFile } from './keyfile.js';
import {
  ECC_CURVES,
  assertUsableSigningKey,
  keyTypeOf,
  publicKeyOf,
  type TpmPublicArea,
} from './public-area.js';
import { resolveTpmTarget, type PathKind, type TpmTarget } from './tcti.js';
import { ECC_P256_STORAGE_PRIMARY, RSA_2048_STORAGE_PRIMARY } from './templates.js';
import { openTransport, type TpmTransport } from './transport.js';
import { handleText, isConnectionFailure, isMissingObject, loadError, signError, storagePrimaryError } from './errors.js';

/** Side effects of opening a TPM key, passed in so tests reach every branch. */
export interface TpmSourceIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => Buffer;
  readonly pathKind: (path: string) => PathKind;
  readonly openTransport: (target: TpmTarget) => Promise<TpmTransport>;
  readonly secretIO: SecretIO;
}

export interface TpmSourceOptions {
  /**
   * Keep the loaded key in the TPM between signatures (default true) and flush it in close().
   * The storage primary is always flushed right after TPM2_Load. False flushes the key after
   * every signature, for callers that cannot promise to call close().
   */
  readonly keepLoaded?: boolean;
  readonly io?: Partial<TpmSourceIO>;
}

const defaultIO: TpmSourceIO = {
  env: process.env,
  readFile: (path) => readUserFile(path),
  pathKind,
  openTransport: (target) => openTransport(target),
  secretIO: defaultSecretIO,
};

const DIGESTS: ReadonlyMap<SignDigest, { readonly node: string; readonly tpm: number }> = new Map([
  ['SHA256', { node: 'sha256', tpm: TPM_ALG.SHA256 }],
  ['SHA384', { node: 'sha384', tpm: TPM_ALG.SHA384 }],
  ['SHA512', { node: 'sha512', tpm: TPM_ALG.SHA512 }],
]);
const TPM_HASH_BY_DIGEST_LENGTH: ReadonlyMap<number, number> = new Map([
  [32, TPM_ALG.SHA256],
  [48, TPM_ALG.SHA384],
  [64, TPM_ALG.SHA512],
]);

type KeyLocation =
  | { readonly kind: 'file'; readonly path: string; readonly file: Tss2KeyFile }
  | { readonly kind: 'persistent'; readonly handle: number };

interface LoadedKey {
  readonly handle: number;
  /** The TPM name, to recognise our object before flushing a handle we lost track of. */
  readonly name: Buffer;
}

/**
 * Opens a TPM-resident key: a TSS2 PRIVATE KEY file (loaded under its parent on demand) or a
 * persistent handle. The TPM is reached through the TCTI in `spec.tcti`, the environment, or
 * /dev/tpmrm0. The key password is read once, kept in a Buffer and zeroed by close().
 */
export async function openTpmKeySource(spec: TpmKeySpec, options: TpmSourceOptions = {}): Promise<KeySource> {
  const io: TpmSourceIO = { ...defaultIO, ...options.io };
  const location = locateKey(spec, io);
  const description = location.kind === 'file' ? location.path : handleText(location.handle);

  const target = resolveTpmTarget(spec.tcti, io);
  const transport = await io.openTransport(target);
  const client = new TpmClient(transport);
  let password: Buffer | undefined;
  try {
    const publicArea = location.kind === 'file' ? location.file.publicArea : await readPersistentPublic(client, location.handle);
    assertUsableSigningKey(publicArea, description);
    const publicKey = publicKeyOf(publicArea, description);
    password = await readKeyPassword(spec, location, description, io.secretIO);
    const certificates = location.kind === 'file' ? location.file.certificates : [];
    return new TpmKeySource({
      client,
      location,
      description,
      publicArea,
      publicKey,
      password,
      keepLoaded: options.keepLoaded ?? true,
      certificates,
    });
  } catch (error) {
    password?.fill(0);
    await transport.close().catch(() => undefined);
    throw error;
  }
}

function locateKey(spec: TpmKeySpec, io: TpmSourceIO): KeyLocation {
  if ((spec.keyFile === undefined) === (spec.handle === undefined)) {
    throw new SignerError('USAGE', 'a TPM key is either a TSS2 key file or a persistent handle: give exactly one of them');
  }
  if (spec.handle !== undefined) {
    if (!Number.isInteger(spec.handle) || spec.handle >>> 24 !== TPM_HT.PERSISTENT) {
      throw new SignerError('USAGE', `${handleText(spec.handle)} is not a persistent handle: use one in 0x81000000-0x81FFFFFF (tpm2_getcap handles-persistent lists them)`);
    }
    return { kind: 'persistent', handle: spec.handle };
  }
  const path = spec.keyFile as string;
  let content: Buffer;
  try {
    content = io.readFile(path);
  } catch (cause) {
    const detail = describeReadFailure(cause);
    const problem = detail === 'ENOENT' ? 'does not exist' : `cannot be read (${detail})`;
    throw new SignerError('KEY_NOT_FOUND', `the TPM key file ${path} ${problem}: check --private-key`, { cause });
  }
  return { kind: 'file', path, file: parseTss2KeyFile(content, path) };
}

async function readPersistentPublic(client: TpmClient, handle: number): Promise<TpmPublicArea> {
  try {
    return (await client.run(readPublicCommand(handle))).publicArea;
  } catch (error) {
    if (isMissingObject(error, 1)) {
      throw new SignerError('KEY_NOT_FOUND', `there is no key at ${handleText(handle)} in the TPM at ${client.transport.description}: list persistent keys with tpm2_getcap handles-persistent`, { cause: error });
    }
    throw error;
  }
}

async function readKeyPassword(spec: TpmKeySpec, location: KeyLocation, description: string, secretIO: SecretIO): Promise<Buffer> {
  if (location.kind === 'file' && location.file.emptyAuth) return Buffer.alloc(0);
  if (spec.noPassword) return Buffer.alloc(0);
  const envVar = spec.password.envVar ?? TPM_KEY_PASSWORD_ENV_VAR;
  return readSecret(
    {
      ...spec.password,
      envVar,
      promptLabel: `Password for TPM key ${description}`,
      missingCode: 'KEY_PASSWORD_REQUIRED',
      missingHint: `pass --tpm-key-password, set ${envVar}, or pass --no-tpm-key-password if the key has no password`,
    },
    secretIO,
  );
}

interface TpmKeySourceInit {
  readonly client: TpmClient;
  readonly location: KeyLocation;
  readonly description: string;
  readonly publicArea: TpmPublicArea;
  readonly publicKey: KeyObject;
  readonly password: Buffer;
  readonly keepLoaded: boolean;
  readonly certificates: readonly Buffer[];
}

interface SigningPlan {
  readonly scheme: typeof TPM_ALG.ECDSA | typeof TPM_ALG.RSASSA;
  readonly hashAlg: number;
  readonly digest: Buffer;
}

class TpmKeySource implements KeySource {
  readonly keyType: KeyType;
  readonly publicKey: SourcePublicKey;
  readonly certificate?: Uint8Array;
  readonly chain?: readonly Uint8Array[];
  readonly description: string;

  readonly #client: TpmClient;
  readonly #location: KeyLocation;
  readonly #publicArea: TpmPublicArea;
  readonly #password: Buffer;
  readonly #keepLoaded: boolean;
  /** Sign/load/flush sequences of concurrent callers must not interleave. */
  #tail: Promise<unknown> = Promise.resolve();
  #loaded: LoadedKey | undefined;
  /** Objects we loaded but could not flush (the connection broke); retried, name-checked. */
  #unflushed: LoadedKey[] = [];
  /** A wrong password is reported once and never sent again: each try counts toward lockout. */
  #authFailure: SignerError | undefined;
  #closed = false;

  constructor(init: TpmKeySourceInit) {
    this.keyType = keyTypeOf(init.publicArea);
    this.publicKey = sourcePublicKeyOf(init.publicKey);
    this.description = init.description;
    const [leaf, ...chain] = init.certificates;
    if (leaf !== undefined) {
      this.certificate = leaf;
      this.chain = chain;
    }
    this.#client = init.client;
    this.#location = init.location;
    this.#publicArea = init.publicArea;
    this.#password = init.password;
    this.#keepLoaded = init.keepLoaded;
  }

  async sign(message: Uint8Array, digest: SignDigest = 'SHA256'): Promise<Uint8Array> {
    const algorithm = DIGESTS.get(digest);
    if (algorithm === undefined) throw new SignerError('USAGE', `unknown digest ${String(digest)}: use SHA256, SHA384 or SHA512`);
    const plan = this.#plan(digest, algorithm.tpm, createHash(algorithm.node).update(message).digest());
    return this.#exclusive(async () => {
      if (this.#closed) throw new SignerError('INTERNAL', `the key source ${this.description} is closed: open it again before signing`);
      if (this.#authFailure !== undefined) throw this.#authFailure;
      await this.#flushUnflushed();
      const signature = this.#location.kind === 'file' ? await this.#signWithKeyFile(this.#location, plan) : await this.#tpmSign(this.#location.handle, plan);
      return this.#encode(signature);
    });
  }

  async close(): Promise<void> {
    await this.#exclusive(async () => {
      if (this.#closed) return;
      this.#closed = true;
      try {
        const loaded = this.#loaded;
        this.#loaded = undefined;
        if (loaded !== undefined) await this.#flushQuietly(loaded);
        await this.#flushUnflushed();
      } finally {
        this.#password.fill(0);
        await this.#client.transport.close().catch(() => undefined);
      }
    });
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * What to ask the TPM for. ECDSA only uses the leftmost bits of a digest as long as the
   * curve order (FIPS 186-4, 6.4), so a digest longer than the curve is cut to the curve size
   * and labelled with the hash of that length: P-256 signs SHA-384 and SHA-512 digests as
   * 32-byte ones, and a TPM without SHA-512 still produces the same signature.
   */
  #plan(digest: SignDigest, tpmHash: number, hash: Buffer): SigningPlan {
    const area = this.#publicArea;
    let plan: SigningPlan;
    if (area.type === TPM_ALG.RSA) {
      plan = { scheme: TPM_ALG.RSASSA, hashAlg: tpmHash, digest: hash };
    } else {
      const curveSize = (ECC_CURVES.get(area.curveId) as { size: number }).size;
      const cut = hash.subarray(0, Math.min(hash.length, curveSize));
      plan = { scheme: TPM_ALG.ECDSA, hashAlg: TPM_HASH_BY_DIGEST_LENGTH.get(cut.length) as number, digest: Buffer.from(cut) };
    }
    // A key created with its own scheme signs with that scheme only (TPM2_Sign, Part 3, 20.2).
    const fixed = area.scheme;
    if (fixed.scheme !== TPM_ALG.NULL && (fixed.scheme !== plan.scheme || fixed.hashAlg !== plan.hashAlg)) {
      const wanted = plan.scheme === TPM_ALG.RSASSA ? 'RSASSA' : 'ECDSA';
      throw new SignerError('NOT_SUPPORTED', `${this.description} is fixed to TPM scheme 0x${fixed.scheme.toString(16)} with hash 0x${(fixed.hashAlg ?? 0).toString(16)}, so it cannot make an ${wanted} ${digest} signature`);
    }
    return plan;
  }

  async #signWithKeyFile(location: Extract<KeyLocation, { kind: 'file' }>, plan: SigningPlan): Promise<TpmSignature> {
    const reused = this.#loaded;
    this.#loaded = undefined;
    let key: LoadedKey | undefined = reused ?? (await this.#load(location));
    let signed = false;
    try {
      try {
        const signature = await this.#tpmSign(key.handle, plan);
        signed = true;
        return signature;
      } catch (error) {
        // A key kept loaded is gone after a TPM restart (TPM_RC_REFERENCE_H0): load it again,
        // once. The TPM did not check the password, so this resend costs no lockout try.
        if (reused === undefined || !isMissingObject(error, 1)) throw error;
        key = undefined;
        key = await this.#load(location);
        const signature = await this.#tpmSign(key.handle, plan);
        signed = true;
        return signature;
      }
    } finally {
      if (key !== undefined) {
        if (signed && this.#keepLoaded) this.#loaded = key;
        else await this.#flushQuietly(key);
      }
    }
  }

  /** CreatePrimary (hierarchy parents) or the persistent parent, then Load; the primary is flushed at once. */
  async #load(location: Extract<KeyLocation, { kind: 'file' }>): Promise<LoadedKey> {
    const { file, path } = location;
    const parentIsHierarchy = file.parent >>> 24 === TPM_HT.PERMANENT;
    let primary: LoadedKey | undefined;
    try {
      if (parentIsHierarchy) {
        primary = await this.#createStoragePrimary(file, path);
      }
      const parentHandle = primary?.handle ?? file.parent;
      try {
        return await this.#client.run(
          loadCommand({ parentHandle, parentAuth: Buffer.alloc(0), inPrivate: file.privateBlob, inPublic: file.publicBlob }),
        );
      } catch (error) {
        throw loadError(error, { parent: file.parent, where: this.#client.transport.description, path });
      }
    } finally {
      if (primary !== undefined) await this.#flushQuietly(primary);
    }
  }

  async #createStoragePrimary(file: Tss2KeyFile, path: string): Promise<LoadedKey> {
    try {
      const created = await this.#client.run(
        createPrimaryCommand({
          hierarchy: file.parent,
          hierarchyAuth: Buffer.alloc(0),
          template: file.rsaParent ? RSA_2048_STORAGE_PRIMARY : ECC_P256_STORAGE_PRIMARY,
        }),
      );
      return { handle: created.handle, name: created.name };
    } catch (error) {
      throw storagePrimaryError(error, { hierarchy: file.parent, where: this.#client.transport.description, path });
    }
  }

  async #tpmSign(handle: number, plan: SigningPlan): Promise<TpmSignature> {
    try {
      return await this.#client.run(signCommand({ keyHandle: handle, keyAuth: this.#password, ...plan }));
    } catch (error) {
      const translated = signError(error, {
        where: this.#client.transport.description,
        description: this.description,
        passwordGiven: this.#password.length > 0,
        persistent: this.#location.kind === 'persistent',
        handle,
      });
      // A wrong password is remembered: it counts toward the TPM's lockout, so it is never sent again.
      if (isSignerError(translated, 'TPM_AUTH_FAILED')) this.#authFailure = translated;
      throw translated;
    }
  }

  #encode(signature: TpmSignature): Uint8Array {
    if (signature.sigAlg === TPM_ALG.ECDSA) return ecdsaIntegersToDer(signature.r, signature.s);
    const area = this.#publicArea;
    if (area.type !== TPM_ALG.RSA || signature.signature.length !== area.modulus.length) {
      throw new SignerError('TPM_COMMAND_FAILED', `the TPM returned an RSA signature of ${signature.signature.length} bytes for ${this.description}, which does not fit its key`);
    }
    return new Uint8Array(signature.signature);
  }

  /** Best effort: a failed flush must not hide the error that got us here. */
  async #flushQuietly(object: LoadedKey): Promise<void> {
    try {
      await this.#client.flush(object.handle);
    } catch (error) {
      if (isConnectionFailure(error)) this.#unflushed.push(object);
    }
  }

  /**
   * Flushes objects a broken connection kept us from flushing, if the handle still names our
   * object: after a TPM restart the same handle number may belong to someone else.
   */
  async #flushUnflushed(): Promise<void> {
    const pending = this.#unflushed;
    this.#unflushed = [];
    for (const object of pending) {
      try {
        const { name } = await this.#client.run(readPublicCommand(object.handle));
        if (name.equals(object.name)) await this.#client.flush(object.handle);
      } catch (error) {
        if (isConnectionFailure(error)) this.#unflushed.push(object);
      }
    }
  }
}

function pathKind(path: string): PathKind {
  try {
    return statSync(path).isSocket() ? 'socket' : 'other';
  } catch {
    return 'missing';
  }
}
