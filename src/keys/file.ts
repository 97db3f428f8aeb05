import { constants, sign as cryptoSign, KeyObject, type SignKeyObjectInput, type SignPrivateKeyInput } from 'node:crypto';
import { assembleChain } from '../certs/chain.js';
import { isPkcs12 } from '../certs/load.js';
import { SignerError } from '../errors.js';
import { describeReadFailure, readUserFile } from '../files/read-user-file.js';
import { signingKeyTypeOf } from './file/key-type.js';
import { readKeyMaterial } from './file/read.js';
import { publicKeyMatchesCertificate } from './match.js';
import { createMlDsaSigningKey, type MlDsaSigningKey } from './mldsa/signing-key.js';
import { sourcePublicKeyOf } from './public-key.js';
import { defaultSecretIO, readSecret, type SecretIO } from './secret.js';
import type { FileKeySpec } from './spec.js';
import type { KeySource, SignDigest, SourcePublicKey } from './types.js';

/** Side effects of opening a key file, injectable so tests can drive them. */
export interface FileKeySourceIO {
  /** Returns a Buffer the source owns: it is zeroed once the key is parsed. */
  readonly readFile: (path: string) => Buffer;
  readonly secretIO: SecretIO;
}

const defaultIO: FileKeySourceIO = { readFile: (path) => readUserFile(path), secretIO: defaultSecretIO };

const NODE_DIGESTS: ReadonlyMap<SignDigest, string> = new Map([
  ['SHA256', 'sha256'],
  ['SHA384', 'sha384'],
  ['SHA512', 'sha512'],
]);

/**
 * A KeySource over a software key: `spec.keyPath` (PEM/DER in any common form, optionally with
 * CERTIFICATE blocks), or - with no keyPath - a PKCS#12 file given as `spec.certificatePath`.
 *
 * When the file carries certificates, `certificate` is the first one certifying this key and
 * `chain` the others that really issue it (assembleChain); unrelated ones are dropped. A
 * separate certificate file next to a keyPath is not read here: the caller loads it
 * (loadLeafCertificate) and checks it against the key (assertPublicKeyMatchesCertificate).
 *
 * The password, when needed, is read once through readSecret and zeroed right after use.
 */
export async function openFileKeySource(spec: FileKeySpec, io: FileKeySourceIO = defaultIO): Promise<KeySource> {
  const path = spec.keyPath ?? spec.certificatePath;
  if (path === undefined) {
    throw new SignerError('USAGE', 'no key file given: pass --private-key, or --certificate with a PKCS#12 file');
  }
  const bytes = spec.keyPath === undefined
    ? readKeyFile(path, 'certificate file', '--certificate', io)
    : readKeyFile(path, 'private key file', '--private-key', io);
  const password = spec.password;
  const readPassword = password === undefined
    ? undefined
    : () => readSecret({
        ...password,
        missingCode: password.missingCode ?? 'KEY_PASSWORD_REQUIRED',
        missingHint: password.missingHint ?? 'pass --pkcs8-password',
      }, io.secretIO);
  let material;
  try {
    if (spec.keyPath === undefined && !isPkcs12(bytes)) {
      throw new SignerError('USAGE', `certificate file ${path} is not a PKCS#12 file and no --private-key was given: pass --private-key with the key file, or a PKCS#12 file as --certificate`);
    }
    material = await readKeyMaterial(bytes, { path, ...(readPassword === undefined ? {} : { readPassword }) });
  } finally {
    // The file may hold the key unencrypted; keep no copy beyond the KeyObject.
    bytes.fill(0);
  }
  const privateKey = material.privateKey;
  const key = privateKey instanceof KeyObject
    ? { keyType: signingKeyTypeOf(privateKey, path), privateKey, publicKey: sourcePublicKeyOf(privateKey) }
    : await openMlDsaKey(privateKey, path);

  const leafIndex = material.certificates.findIndex((certificate) => publicKeyMatchesCertificate(key.publicKey, certificate));
  const certificate = material.certificates[leafIndex];
  const chain = certificate === undefined
    ? undefined
    : assembleChain(certificate, material.certificates.filter((_, index) => index !== leafIndex));
  return key.keyType === 'ML-DSA'
    ? createMlDsaFileKeySource(key.privateKey, path, certificate, chain)
    : createFileKeySource(key.privateKey, key.keyType, key.publicKey, path, certificate, chain);
}

async function openMlDsaKey(info: Parameters<typeof createMlDsaSigningKey>[0], path: string): Promise<{ keyType: 'ML-DSA'; privateKey: MlDsaSigningKey; publicKey: SourcePublicKey }> {
  const privateKey = await createMlDsaSigningKey(info, `private key file ${path}`);
  return { keyType: 'ML-DSA', privateKey, publicKey: { spki: privateKey.spki, keyObject: undefined } };
}

function readKeyFile(path: string, noun: string, flag: string, io: FileKeySourceIO): Uint8Array {
  try {
    return io.readFile(path);
  } catch (cause) {
    const detail = describeReadFailure(cause);
    const message = detail === 'ENOENT'
      ? `${noun} ${path} does not exist: check the ${flag} path`
      : `cannot read ${noun} ${path} (${detail}): check the ${flag} path and its permissions`;
    throw new SignerError('KEY_NOT_FOUND', message, { cause });
  }
}

/**
 * ML-DSA signs the message itself (pure ML-DSA, empty context, deterministic), so `digest`
 * does not apply; sign-string refuses --digest before it gets here. close() zeroes the
 * expanded key.
 */
function createMlDsaFileKeySource(
  privateKey: MlDsaSigningKey,
  description: string,
  certificate: Uint8Array | undefined,
  chain: Uint8Array[] | undefined,
): KeySource {
  let closed = false;
  return {
    keyType: 'ML-DSA',
    publicKey: { spki: privateKey.spki, keyObject: undefined },
    description,
    ...(certificate === undefined ? {} : { certificate }),
    ...(chain === undefined ? {} : { chain }),
    async sign(message: Uint8Array): Promise<Uint8Array> {
      if (closed) throw new SignerError('INTERNAL', `the key source ${description} is closed: open it again before signing`);
      return privateKey.sign(message);
    },
    async close(): Promise<void> {
      closed = true;
      privateKey.destroy();
    },
  };
}

function createFileKeySource(
  privateKey: KeyObject,
  keyType: 'RSA' | 'EC',
  publicKey: SourcePublicKey,
  description: string,
  certificate: Uint8Array | undefined,
  chain: Uint8Array[] | undefined,
): KeySource {
  // Dropping the reference is all close can do: KeyObject memory is not ours to wipe.
  let key: KeyObject | undefined = privateKey;
  return {
    keyType,
    publicKey,
    description,
    ...(certificate === undefined ? {} : { certificate }),
    ...(chain === undefined ? {} : { chain }),
    async sign(message: Uint8Array, digest: SignDigest = 'SHA256'): Promise<Uint8Array> {
      const algorithm = NODE_DIGESTS.get(digest);
      if (algorithm === undefined) {
        throw new SignerError('USAGE', `unknown digest ${String(digest)}: use SHA256, SHA384 or SHA512`);
      }
      if (key === undefined) {
        throw new SignerError('INTERNAL', `the key source ${description} is closed: open it again before signing`);
      }
      // PKCS#1 v1.5 for RSA, never PSS; ECDSA as DER SEQUENCE{r,s}.
      const input: SignKeyObjectInput | SignPrivateKeyInput = keyType === 'RSA'
        ? { key, padding: constants.RSA_PKCS1_PADDING }
        : { key, dsaEncoding: 'der' };
      return new Promise((resolve, reject) => {
        // The callback form runs on the thread pool, so serve mode keeps answering meanwhile.
        cryptoSign(algorithm, message, input, (error, signature) => {
          if (error) reject(new SignerError('INTERNAL', `signing with the private key ${description} failed: rerun with --debug`, { cause: error }));
          else resolve(new Uint8Array(signature));
        });
      });
    },
    async close(): Promise<void> {
      key = undefined;
    },
  };
}
