import { createPrivateKey, type KeyObject } from 'node:crypto';
import { DER_TAG, decodeDerOid, decodeDerSmallInteger, expectDerConstructed, expectDerPrimitive, readDerChildren, readWholeDerElement } from '../../asn1/der.js';
import { isPkcs12, isX509Certificate } from '../../certs/load.js';
import { looksLikePem, parsePemBlocks, type PemBlock } from '../../certs/pem.js';
import { SignerError } from '../../errors.js';
import { mlDsaParametersOfPkcs8, readMlDsaPrivateKeyInfo, type MlDsaPrivateKeyInfo } from '../mldsa/private-key.js';
import { decryptWithPassword, type EncryptionAlgorithm } from './pbe.js';
import { bmpPassword } from './pkcs12-kdf.js';

/**
 * A private key as read: a KeyObject for what node:crypto can hold, the decoded PKCS#8 fields
 * for ML-DSA (which Node.js 20 cannot load; the caller expands it and zeroes the fields).
 */
export type PrivateKeyMaterial = KeyObject | MlDsaPrivateKeyInfo;

/** A private key and the certificates that travelled with it (combined PEM, PKCS#12). */
export interface KeyMaterial {
  readonly privateKey: PrivateKeyMaterial;
  readonly certificates: Uint8Array[];
}

export interface KeyReadOptions {
  readonly path: string;
  /** Reads the password the user gave; absent when none was given. Called at most once. */
  readonly readPassword?: () => Promise<Buffer>;
}

type DerKeyFormat = 'pkcs8' | 'pkcs1' | 'sec1';

const PEM_KEY_FORMATS: ReadonlyMap<string, DerKeyFormat | 'encrypted-pkcs8'> = new Map([
  ['PRIVATE KEY', 'pkcs8'],
  ['ENCRYPTED PRIVATE KEY', 'encrypted-pkcs8'],
  ['RSA PRIVATE KEY', 'pkcs1'],
  ['EC PRIVATE KEY', 'sec1'],
]);

const CONVERT_HINT = 'convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in <file> -out key.pem`';

/**
 * Reads a private key in any of the forms users have: PEM or DER; PKCS#8, encrypted PKCS#8
 * (PBES2 or PKCS#12 PBE), PKCS#1 RSA, SEC1 EC; a PEM file that also holds CERTIFICATE blocks;
 * a PKCS#12 file. Every failure names the file and what to do; none quotes key bytes or the
 * password.
 */
export async function readKeyMaterial(bytes: Uint8Array, options: KeyReadOptions): Promise<KeyMaterial> {
  if (looksLikePem(bytes)) return readPemKeyFile(bytes, options);
  if (isPkcs12(bytes)) return readPkcs12KeyMaterial(bytes, options);
  return { privateKey: await readDerKey(bytes, options), certificates: [] };
}

async function readPkcs12KeyMaterial(bytes: Uint8Array, options: KeyReadOptions): Promise<KeyMaterial> {
  const source = `PKCS#12 file ${options.path}`;
  // The PKCS#12 reader (and the ASN.1 schemas it uses) is loaded only for PKCS#12 files.
  const { readPkcs12 } = await import('./pkcs12.js');
  const contents = await readPkcs12(bytes, options);
  try {
    if (contents.privateKeys.length === 0) {
      throw new SignerError('KEY_INVALID', `${source} holds no private key: export it with its key (openssl pkcs12 -export -inkey <key> -in <cert>)`);
    }
    if (contents.privateKeys.length > 1) {
      throw new SignerError('KEY_INVALID', `${source} holds ${contents.privateKeys.length} private keys: export a file with only the key for your certificate`);
    }
    const privateKey = importDerKey(contents.privateKeys[0] as Buffer, 'pkcs8', source);
    const certificates = contents.certificates.filter((certificate) => isX509Certificate(certificate));
    return { privateKey, certificates };
  } finally {
    for (const key of contents.privateKeys) key.fill(0);
  }
}

async function readPemKeyFile(bytes: Uint8Array, options: KeyReadOptions): Promise<KeyMaterial> {
  const source = `private key file ${options.path}`;
  const blocks = parsePemBlocks(viewAsBuffer(bytes).toString('latin1'), { source, errorCode: 'KEY_INVALID' });
  const keyBlocks = blocks.filter((block) => PEM_KEY_FORMATS.get(block.label) !== undefined);
  const certificates: Uint8Array[] = [];
  for (const block of blocks) {
    if (block.label !== 'CERTIFICATE') continue;
    if (!isX509Certificate(block.der)) {
      throw new SignerError('KEY_INVALID', `${source}: the CERTIFICATE block that begins on line ${block.line} is not a valid X.509 certificate: the file is damaged; get a fresh copy`);
    }
    certificates.push(block.der);
  }
  const [keyBlock, ...extraKeys] = keyBlocks;
  if (keyBlock === undefined) throw noPrivateKeyError(blocks, source);
  if (extraKeys.length > 0) {
    throw new SignerError('KEY_INVALID', `${source} holds ${keyBlocks.length} private keys: keep only the key for your certificate`);
  }
  const format = PEM_KEY_FORMATS.get(keyBlock.label) as DerKeyFormat | 'encrypted-pkcs8';
  if (keyBlock.headers.has('DEK-Info') || /ENCRYPTED/i.test(keyBlock.headers.get('Proc-Type') ?? '')) {
    throw new SignerError('KEY_INVALID', `${source} uses legacy OpenSSL PEM encryption (DEK-Info), which this tool does not read: ${CONVERT_HINT}`);
  }
  try {
    const privateKey = format === 'encrypted-pkcs8'
      ? await decryptPkcs8(keyBlock.der, source, options)
      : importDerKey(keyBlock.der, format, source);
    return { privateKey, certificates };
  } finally {
    keyBlock.der.fill(0);
  }
}

function noPrivateKeyError(blocks: readonly PemBlock[], source: string): SignerError {
  const labels = new Set(blocks.map((block) => block.label));
  if (labels.has('TSS2 PRIVATE KEY')) {
    return new SignerError('KEY_INVALID', `${source} holds a TSS2 PRIVATE KEY, a key wrapped by a TPM: it needs the TPM key source, not a key file`);
  }
  if (labels.has('OPENSSH PRIVATE KEY')) {
    return new SignerError('KEY_INVALID', `${source} is an OpenSSH private key: convert it to PKCS#8 with \`ssh-keygen -p -m PKCS8 -f <file>\``);
  }
  if (labels.has('PUBLIC KEY') || labels.has('RSA PUBLIC KEY')) {
    return new SignerError('KEY_INVALID', `${source} holds a public key, not a private key: pass the private key file`);
  }
  if (labels.has('CERTIFICATE')) {
    return new SignerError('KEY_INVALID', `${source} holds certificates but no private key: pass the private key file with --private-key`);
  }
  return new SignerError('KEY_INVALID', `${source} holds no PEM private key block (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY): pass a private key file`);
}

async function readDerKey(bytes: Uint8Array, options: KeyReadOptions): Promise<PrivateKeyMaterial> {
  const source = `private key file ${options.path}`;
  const notAKey = new SignerError('KEY_INVALID', `${source} is not a private key in a form this tool reads (PEM or DER: PKCS#8, encrypted PKCS#8, PKCS#1, SEC1; or PKCS#12): pass a private key file`);
  let fields;
  try {
    fields = readDerChildren(readWholeDerElement(bytes));
  } catch {
    throw notAKey;
  }
  if (isX509Certificate(bytes)) {
    throw new SignerError('KEY_INVALID', `${source} holds a certificate, not a private key: pass the private key file with --private-key`);
  }
  // EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }
  if (fields.length === 2 && fields[0]?.tag === DER_TAG.SEQUENCE && fields[1]?.tag === DER_TAG.OCTET_STRING) {
    return decryptPkcs8(bytes, source, options);
  }
  // SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }
  if (fields.length === 2 && fields[0]?.tag === DER_TAG.SEQUENCE && fields[1]?.tag === DER_TAG.BIT_STRING) {
    throw new SignerError('KEY_INVALID', `${source} holds a public key, not a private key: pass the private key file`);
  }
  if (mlDsaParametersOfPkcs8(bytes) !== undefined) return readMlDsaPrivateKeyInfo(bytes, source);
  for (const format of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: viewAsBuffer(bytes), format: 'der', type: format });
    } catch {
      // try the next form
    }
  }
  throwIfUnsupportedPkcs8(bytes, source);
  throw notAKey;
}

function importDerKey(der: Uint8Array, format: DerKeyFormat, source: string): PrivateKeyMaterial {
  // Checked first, whatever the running Node supports: one ML-DSA code path everywhere.
  if (format === 'pkcs8' && mlDsaParametersOfPkcs8(der) !== undefined) return readMlDsaPrivateKeyInfo(der, source);
  try {
    return createPrivateKey({ key: viewAsBuffer(der), format: 'der', type: format });
  } catch {
    if (format === 'pkcs8') throwIfUnsupportedPkcs8(der, source);
    throw new SignerError('KEY_INVALID', `${source} holds a damaged ${format.toUpperCase()} private key: get a fresh copy of the file`, { cause: new Error('key import failed') });
  }
}

/** A well-formed PKCS#8 that OpenSSL cannot import is a key type we cannot use: say which. */
function throwIfUnsupportedPkcs8(der: Uint8Array, source: string): void {
  let algorithm: string;
  try {
    // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING, ... }
    const [version, algorithmIdentifier, privateKey] = expectDerConstructed(readWholeDerElement(der), DER_TAG.SEQUENCE, 3, 'PrivateKeyInfo');
    decodeDerSmallInteger(version, 'version', 1);
    expectDerPrimitive(privateKey, DER_TAG.OCTET_STRING, 'privateKey');
    algorithm = decodeDerOid(expectDerConstructed(algorithmIdentifier, DER_TAG.SEQUENCE, 1, 'privateKeyAlgorithm')[0], 'privateKeyAlgorithm');
  } catch {
    return;
  }
  throw new SignerError('KEY_TYPE_UNSUPPORTED', `${source} holds a key of algorithm ${algorithm}, which this tool cannot use: IAM Roles Anywhere accepts RSA, EC (P-256, P-384) and ML-DSA (44, 65, 87) keys`);
}

async function decryptPkcs8(der: Uint8Array, source: string, options: KeyReadOptions): Promise<PrivateKeyMaterial> {
  let info: { algorithm: EncryptionAlgorithm; encryptedData: Uint8Array };
  try {
    info = parseEncryptedPrivateKeyInfo(der);
  } catch (cause) {
    throw new SignerError('KEY_INVALID', `${source} holds a damaged encrypted private key: get a fresh copy of the file`, { cause });
  }
  if (options.readPassword === undefined) {
    throw new SignerError('KEY_PASSWORD_REQUIRED', `${source} is encrypted: pass its password with --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
  }
  const algorithm = info.algorithm;
  const utf8 = await options.readPassword();
  const bmp = bmpPassword(utf8);
  let plain: Buffer | undefined;
  try {
    plain = await decryptWithPassword(algorithm, info.encryptedData, { utf8, bmp }, {
      source,
      unsupported: (name) => `${source} is encrypted with ${name}, which this tool does not support: ${CONVERT_HINT}`,
    });
  } finally {
    utf8.fill(0);
    bmp.fill(0);
  }
  const incorrect = new SignerError('KEY_PASSWORD_INCORRECT', `the password for ${source} is incorrect: check the value of --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
  if (plain === undefined) throw incorrect;
  try {
    if (mlDsaParametersOfPkcs8(plain) !== undefined) return readMlDsaPrivateKeyInfo(plain, source);
    return createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
  } catch {
    throwIfUnsupportedPkcs8(plain, source);
    // The padding happened to check out under a wrong password; what came out is not a key.
    throw incorrect;
  } finally {
    plain.fill(0);
  }
}

/** EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING } (RFC 5958). */
function parseEncryptedPrivateKeyInfo(der: Uint8Array): { algorithm: EncryptionAlgorithm; encryptedData: Uint8Array } {
  const [algorithmIdentifier, encryptedData] = expectDerConstructed(readWholeDerElement(der), DER_TAG.SEQUENCE, 2, 'EncryptedPrivateKeyInfo');
  const [oid, parameters] = expectDerConstructed(algorithmIdentifier, DER_TAG.SEQUENCE, 1, 'encryptionAlgorithm');
  return {
    algorithm: { oid: decodeDerOid(oid, 'encryptionAlgorithm'), ...(parameters !== undefined ? { parameters: parameters.encoded } : {}) },
    encryptedData: expectDerPrimitive(encryptedData, DER_TAG.OCTET_STRING, 'encryptedData'),
  };
}

/** No copy: key bytes are zeroed through the original array, so none may linger in another. */
function viewAsBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
