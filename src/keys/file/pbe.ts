import { createDecipheriv, pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import {
  DER_TAG,
  decodeDerOid,
  decodeDerSmallInteger,
  expectDerConstructed,
  expectDerPrimitive,
  readWholeDerElement,
  type DerElement,
} from '../../asn1/der.js';
import { SignerError } from '../../errors.js';
import { PKCS12_KDF_PURPOSE, pkcs12Kdf } from './pkcs12-kdf.js';

const pbkdf2Async = promisify(pbkdf2);

/** An encryption AlgorithmIdentifier: the OID and the DER of its parameters. */
export interface EncryptionAlgorithm {
  readonly oid: string;
  readonly parameters?: Uint8Array;
}

/**
 * The password in the two forms the schemes need: PBES2 feeds the UTF-8 bytes to PBKDF2, the
 * PKCS#12 PBE schemes feed the BMPString to the PKCS#12 KDF. The owner zeroes both.
 */
export interface PasswordForms {
  readonly utf8: Uint8Array;
  readonly bmp: Uint8Array;
}

export interface DecryptionContext {
  /** Names the file in messages: `private key file /k.pem`, `PKCS#12 file /a.p12`. */
  readonly source: string;
  /** The whole message for an algorithm we do not implement, given its name. */
  readonly unsupported: (algorithmName: string) => string;
}

/** Iteration counts beyond this make opening a file hang for minutes: treat as damaged. */
/**
 * Iteration caps at what real files use, so a hostile file cannot pin a CPU for minutes before
 * it is refused. OpenSSL writes 2048, Java's keytool 10000, Windows 2000; OWASP's PBKDF2
 * advice (600,000 for HMAC-SHA-256) sets the PBKDF2 cap, which runs natively (~1 s at the cap).
 * The PKCS#12 KDF is SHA-1 in JavaScript, about 8 s per million: 100,000 keeps it under a second.
 */
export const MAX_PBKDF2_ITERATIONS = 1_000_000;
export const MAX_PKCS12_KDF_ITERATIONS = 100_000;

/** The message for a file that asks for more work than the cap. */
export function tooManyIterations(source: string, what: string, iterations: number, cap: number): SignerError {
  return new SignerError('KEY_INVALID', `${source} asks for ${iterations} ${what} iterations, more than the ${cap} this tool allows (real files use a few thousand): re-export or convert it with the default settings of openssl`);
}

const OID = Object.freeze({
  PBES2: '1.2.840.113549.1.5.13',
  PBKDF2: '1.2.840.113549.1.5.12',
  PBE_SHA1_3DES: '1.2.840.113549.1.12.1.3',
  PBE_SHA1_2DES: '1.2.840.113549.1.12.1.4',
  HMAC_SHA1: '1.2.840.113549.2.7',
});

const PBKDF2_PRFS: ReadonlyMap<string, string> = new Map([
  [OID.HMAC_SHA1, 'sha1'],
  ['1.2.840.113549.2.8', 'sha224'],
  ['1.2.840.113549.2.9', 'sha256'],
  ['1.2.840.113549.2.10', 'sha384'],
  ['1.2.840.113549.2.11', 'sha512'],
]);

interface CipherSpec {
  readonly name: string;
  readonly keyLength: number;
  readonly ivLength: number;
}

const PBES2_CIPHERS: ReadonlyMap<string, CipherSpec> = new Map([
  ['2.16.840.1.101.3.4.1.2', { name: 'aes-128-cbc', keyLength: 16, ivLength: 16 }],
  ['2.16.840.1.101.3.4.1.22', { name: 'aes-192-cbc', keyLength: 24, ivLength: 16 }],
  ['2.16.840.1.101.3.4.1.42', { name: 'aes-256-cbc', keyLength: 32, ivLength: 16 }],
  ['1.2.840.113549.3.7', { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 }],
]);

const PKCS12_PBE_CIPHERS: ReadonlyMap<string, CipherSpec> = new Map([
  [OID.PBE_SHA1_3DES, { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 }],
  [OID.PBE_SHA1_2DES, { name: 'des-ede-cbc', keyLength: 16, ivLength: 8 }],
]);

/** Names for the schemes people meet in old files, so the message says what the file uses. */
const ALGORITHM_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.12.1.1', 'pbeWithSHAAnd128BitRC4'],
  ['1.2.840.113549.1.12.1.2', 'pbeWithSHAAnd40BitRC4'],
  ['1.2.840.113549.1.12.1.5', 'pbeWithSHAAnd128BitRC2-CBC'],
  ['1.2.840.113549.1.12.1.6', 'pbeWithSHAAnd40BitRC2-CBC'],
  ['1.2.840.113549.1.5.1', 'pbeWithMD2AndDES-CBC'],
  ['1.2.840.113549.1.5.3', 'pbeWithMD5AndDES-CBC'],
  ['1.2.840.113549.1.5.4', 'pbeWithMD2AndRC2-CBC'],
  ['1.2.840.113549.1.5.6', 'pbeWithMD5AndRC2-CBC'],
  ['1.2.840.113549.1.5.10', 'pbeWithSHA1AndDES-CBC'],
  ['1.2.840.113549.1.5.11', 'pbeWithSHA1AndRC2-CBC'],
  ['1.3.6.1.4.1.11591.4.11', 'scrypt'],
  ['1.2.840.113549.3.2', 'RC2-CBC'],
  ['1.3.14.3.2.7', 'DES-CBC'],
  ['2.16.840.1.101.3.4.1.6', 'AES-128-GCM'],
  ['2.16.840.1.101.3.4.1.46', 'AES-256-GCM'],
]);

function algorithmName(oid: string): string {
  return ALGORITHM_NAMES.get(oid) ?? `algorithm ${oid}`;
}

/**
 * Decrypts data protected by a password-based scheme: PBES2 (PBKDF2 with HMAC-SHA-1/224/256/
 * 384/512, then AES-128/192/256-CBC or 3DES-CBC; OpenSSL 3's default) or the PKCS#12 schemes
 * pbeWithSHAAnd3-KeyTripleDES-CBC / 2-KeyTripleDES-CBC (RFC 7292 appendix C; OpenSSL's
 * -legacy keys). Returns undefined when the padding is wrong, which is what a wrong password
 * looks like; the caller decides how to report it. Unsupported or malformed parameters throw
 * KEY_INVALID.
 */
export async function decryptWithPassword(
  algorithm: EncryptionAlgorithm,
  ciphertext: Uint8Array,
  password: PasswordForms,
  context: DecryptionContext,
): Promise<Buffer | undefined> {
  const plan = planDecryption(algorithm, context);
  const derived = plan.kind === 'pbes2' ? await deriveForPbes2(plan, password) : deriveForPkcs12Pbe(plan, password);
  try {
    const decipher = createDecipheriv(derived.cipher.name, derived.key, derived.iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined;
  } finally {
    derived.key.fill(0);
  }
}

function parseParameters(algorithm: EncryptionAlgorithm, context: DecryptionContext): DerElement {
  try {
    if (algorithm.parameters === undefined) throw new SignerError('INTERNAL', 'malformed DER: no parameters');
    return readWholeDerElement(algorithm.parameters);
  } catch (cause) {
    throw damaged(context, cause);
  }
}

type DecryptionPlan =
  | ({ readonly kind: 'pbes2' } & Pbes2Plan)
  | ({ readonly kind: 'pkcs12-pbe' } & Pkcs12PbePlan);

/**
 * Every check of an algorithm and its parameters, no key derivation: callers holding several
 * encrypted parts (PKCS#12) learn that one is unsupported before paying for any KDF.
 */
export function assertDecryptionSupported(algorithm: EncryptionAlgorithm, context: DecryptionContext): void {
  planDecryption(algorithm, context);
}

function planDecryption(algorithm: EncryptionAlgorithm, context: DecryptionContext): DecryptionPlan {
  if (algorithm.oid === OID.PBES2) return { kind: 'pbes2', ...planPbes2(parseParameters(algorithm, context), context) };
  const cipher = PKCS12_PBE_CIPHERS.get(algorithm.oid);
  if (cipher === undefined) throw new SignerError('KEY_INVALID', context.unsupported(algorithmName(algorithm.oid)));
  return { kind: 'pkcs12-pbe', ...planPkcs12Pbe(cipher, parseParameters(algorithm, context), context) };
}

function damaged(context: DecryptionContext, cause: unknown): SignerError {
  return new SignerError('KEY_INVALID', `${context.source}: the encryption parameters are malformed: the file is damaged; get a fresh copy`, { cause });
}

interface Pbes2Plan {
  readonly cipher: CipherSpec;
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly digest: string;
  readonly iv: Uint8Array;
}

function planPbes2(parameters: DerElement, context: DecryptionContext): Pbes2Plan {
  let kdfOid: string;
  let cipherOid: string;
  let kdfParameters: DerElement[];
  let iv: Uint8Array;
  try {
    const [kdf, scheme] = expectDerConstructed(parameters, DER_TAG.SEQUENCE, 2, 'PBES2-params');
    const kdfFields = expectDerConstructed(kdf, DER_TAG.SEQUENCE, 1, 'keyDerivationFunc');
    kdfOid = decodeDerOid(kdfFields[0], 'keyDerivationFunc algorithm');
    kdfParameters = kdfOid === OID.PBKDF2 ? expectDerConstructed(kdfFields[1], DER_TAG.SEQUENCE, 2, 'PBKDF2-params') : [];
    const schemeFields = expectDerConstructed(scheme, DER_TAG.SEQUENCE, 1, 'encryptionScheme');
    cipherOid = decodeDerOid(schemeFields[0], 'encryptionScheme algorithm');
    iv = PBES2_CIPHERS.get(cipherOid) === undefined ? new Uint8Array(0) : expectDerPrimitive(schemeFields[1], DER_TAG.OCTET_STRING, 'cipher IV');
  } catch (cause) {
    throw damaged(context, cause);
  }
  if (kdfOid !== OID.PBKDF2) throw new SignerError('KEY_INVALID', context.unsupported(`PBES2 with ${algorithmName(kdfOid)} key derivation`));
  const cipher = PBES2_CIPHERS.get(cipherOid);
  if (cipher === undefined) throw new SignerError('KEY_INVALID', context.unsupported(`PBES2 with ${algorithmName(cipherOid)} encryption`));

  let salt: Uint8Array;
  let iterations: number;
  let prfOid: string = OID.HMAC_SHA1;
  let keyLength = cipher.keyLength;
  try {
    // PBKDF2-params ::= SEQUENCE { salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1 }
    salt = expectDerPrimitive(kdfParameters[0], DER_TAG.OCTET_STRING, 'PBKDF2 salt');
    iterations = decodeDerSmallInteger(kdfParameters[1], 'PBKDF2 iteration count');
    let next = 2;
    if (kdfParameters[next]?.tag === DER_TAG.INTEGER) keyLength = decodeDerSmallInteger(kdfParameters[next++], 'PBKDF2 key length');
    const prf = kdfParameters[next];
    if (prf !== undefined) prfOid = decodeDerOid(expectDerConstructed(prf, DER_TAG.SEQUENCE, 1, 'PBKDF2 prf')[0], 'PBKDF2 prf algorithm');
  } catch (cause) {
    throw damaged(context, cause);
  }
  const digest = PBKDF2_PRFS.get(prfOid);
  if (digest === undefined) throw new SignerError('KEY_INVALID', context.unsupported(`PBES2 with PBKDF2 and PRF ${algorithmName(prfOid)}`));
  if (keyLength !== cipher.keyLength || iv.length !== cipher.ivLength || iterations < 1) {
    throw damaged(context, new Error(`PBES2 key length ${keyLength}, IV length ${iv.length}, ${iterations} iterations`));
  }
  if (iterations > MAX_PBKDF2_ITERATIONS) throw tooManyIterations(context.source, 'PBKDF2', iterations, MAX_PBKDF2_ITERATIONS);
  return { cipher, salt, iterations, digest, iv };
}

async function deriveForPbes2(plan: Pbes2Plan, password: PasswordForms): Promise<{ cipher: CipherSpec; key: Buffer; iv: Uint8Array }> {
  const key = await pbkdf2Async(password.utf8, plan.salt, plan.iterations, plan.cipher.keyLength, plan.digest);
  return { cipher: plan.cipher, key, iv: plan.iv };
}

interface Pkcs12PbePlan {
  readonly cipher: CipherSpec;
  readonly salt: Uint8Array;
  readonly iterations: number;
}

function planPkcs12Pbe(cipher: CipherSpec, parameters: DerElement, context: DecryptionContext): Pkcs12PbePlan {
  let salt: Uint8Array;
  let iterations: number;
  try {
    // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
    const [saltField, iterationsField] = expectDerConstructed(parameters, DER_TAG.SEQUENCE, 2, 'pkcs-12PbeParams');
    salt = expectDerPrimitive(saltField, DER_TAG.OCTET_STRING, 'PBE salt');
    iterations = decodeDerSmallInteger(iterationsField, 'PBE iteration count');
  } catch (cause) {
    throw damaged(context, cause);
  }
  if (iterations < 1) throw damaged(context, new Error(`${iterations} iterations`));
  if (iterations > MAX_PKCS12_KDF_ITERATIONS) throw tooManyIterations(context.source, 'PKCS#12 key-derivation', iterations, MAX_PKCS12_KDF_ITERATIONS);
  return { cipher, salt, iterations };
}

function deriveForPkcs12Pbe({ cipher, salt, iterations }: Pkcs12PbePlan, password: PasswordForms): { cipher: CipherSpec; key: Buffer; iv: Uint8Array } {
  const key = pkcs12Kdf('sha1', password.bmp, salt, iterations, PKCS12_KDF_PURPOSE.KEY, cipher.keyLength);
  const iv = pkcs12Kdf('sha1', password.bmp, salt, iterations, PKCS12_KDF_PURPOSE.IV, cipher.ivLength);
  return { cipher, key, iv };
}
