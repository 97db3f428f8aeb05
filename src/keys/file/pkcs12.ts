import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  AuthenticatedSafe,
  CertBag,
  PFX,
  SafeContents,
  id_certBag,
  id_keyBag,
  id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
  type MacData,
  type SafeBag,
} from '@peculiar/asn1-pfx';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { DER_TAG, decodeDerOid, expectDerConstructed, readDerChildren, readWholeDerElement } from '../../asn1/der.js';
import { SignerError } from '../../errors.js';
import { assertDecryptionSupported, decryptWithPassword, MAX_PKCS12_KDF_ITERATIONS, tooManyIterations, type DecryptionContext, type EncryptionAlgorithm, type PasswordForms } from './pbe.js';
import { PKCS12_KDF_HASHES, PKCS12_KDF_PURPOSE, bmpPassword, pkcs12Kdf, type Pkcs12KdfHash } from './pkcs12-kdf.js';

/** What a PKCS#12 file holds, in file order. */
export interface Pkcs12Contents {
  /** Unencrypted PKCS#8 DER of each private key; the caller zeroes them after import. */
  readonly privateKeys: Buffer[];
  readonly certificates: Uint8Array[];
}

export interface Pkcs12ReadOptions {
  readonly path: string;
  /** Reads the password the user gave; absent when none was given (the empty password is tried). */
  readonly readPassword?: () => Promise<Buffer>;
}

const OID = Object.freeze({
  DATA: '1.2.840.113549.1.7.1',
  SIGNED_DATA: '1.2.840.113549.1.7.2',
  ENCRYPTED_DATA: '1.2.840.113549.1.7.6',
  SAFE_CONTENTS_BAG: '1.2.840.113549.1.12.10.1.6',
  PBMAC1: '1.2.840.113549.1.5.14',
});

const MAC_HASHES: ReadonlyMap<string, Pkcs12KdfHash> = new Map([
  ['1.3.14.3.2.26', 'sha1'],
  ['2.16.840.1.101.3.4.2.4', 'sha224'],
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

const REEXPORT_HINT = 're-export it with `openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC`';

/**
 * Opens a PKCS#12 file in password-integrity mode (what OpenSSL, Windows, macOS and Java
 * write). Like the reference helper, the empty password is used when none is given. The MAC is
 * checked first, in constant time, so a wrong password is reported as such instead of as
 * garbage; files without a MAC rely on the padding check of each decryption.
 */
export async function readPkcs12(bytes: Uint8Array, options: Pkcs12ReadOptions): Promise<Pkcs12Contents> {
  const source = `PKCS#12 file ${options.path}`;
  const { authenticatedSafeDer, macData } = parsePfx(bytes, source);
  // Everything that can be refused without the password is refused before any key derivation:
  // a legacy file with a million MAC iterations must not cost seconds to say "RC2 unsupported".
  if (macData !== undefined) macHash(macData, source);
  assertContentsSupported(authenticatedSafeDer, source);
  const given = options.readPassword === undefined ? undefined : await options.readPassword();
  const utf8 = given ?? Buffer.alloc(0);
  // The empty password has two BMPString forms (with and without the terminator); OpenSSL
  // writes the first and accepts both, so try both.
  const bmpCandidates = utf8.length === 0 ? [bmpPassword(utf8), Buffer.alloc(0)] : [bmpPassword(utf8)];
  try {
    let bmp = bmpCandidates[0] as Buffer;
    if (macData !== undefined) {
      const verified = bmpCandidates.find((candidate) => macVerifies(macData, authenticatedSafeDer, candidate, source));
      if (verified === undefined) throw passwordError(source, given !== undefined, ' (MAC check failed)');
      bmp = verified;
    }
    return await readAuthenticatedSafe(authenticatedSafeDer, { utf8, bmp }, source, given !== undefined);
  } finally {
    utf8.fill(0);
    for (const candidate of bmpCandidates) candidate.fill(0);
  }
}

function parsePfx(bytes: Uint8Array, source: string): { authenticatedSafeDer: Uint8Array; macData?: MacData } {
  try {
    const pfx = AsnConvert.parse(bytes, PFX);
    if (pfx.authSafe.contentType !== OID.DATA) {
      throw new SignerError('KEY_INVALID', pfx.authSafe.contentType === OID.SIGNED_DATA
        ? `${source} uses public-key integrity mode, which this tool does not support: ${REEXPORT_HINT}`
        : `${source} is not a password-protected PKCS#12 file: ${REEXPORT_HINT}`);
    }
    const authenticatedSafeDer = octetStringContents(pfx.authSafe.content);
    // The schema fills in an empty MacData when the optional field is absent: count the fields.
    const hasMac = readDerChildren(readWholeDerElement(bytes)).length > 2;
    return hasMac ? { authenticatedSafeDer, macData: pfx.macData } : { authenticatedSafeDer };
  } catch (cause) {
    if (cause instanceof SignerError && cause.code === 'KEY_INVALID') throw cause;
    throw new SignerError('KEY_INVALID', `${source} is not a valid PKCS#12 file: the file is damaged; get a fresh copy`, { cause });
  }
}

/** Without a password the empty one was tried: ask for one. With one, it was wrong. */
function passwordError(source: string, passwordGiven: boolean, detail = ''): SignerError {
  return passwordGiven
    ? new SignerError('KEY_PASSWORD_INCORRECT', `the password for ${source} is incorrect${detail}: check the value of --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`)
    : new SignerError('KEY_PASSWORD_REQUIRED', `${source} is protected by a password: pass it with --pkcs8-password or ROLES_ANYWHERE_PKCS8_PASSWORD`);
}

/** The MAC's hash, once its algorithm and iteration count are known to be acceptable. */
function macHash(macData: MacData, source: string): Pkcs12KdfHash {
  const digestOid = macData.mac.digestAlgorithm.algorithm;
  const hash = MAC_HASHES.get(digestOid);
  if (hash === undefined) {
    const name = digestOid === OID.PBMAC1 ? 'PBMAC1' : `digest ${digestOid}`;
    throw new SignerError('KEY_INVALID', `${source} protects its integrity with ${name}, which this tool does not support: ${REEXPORT_HINT}`);
  }
  if (macData.iterations < 1) {
    throw new SignerError('KEY_INVALID', `${source} has a MAC iteration count of ${macData.iterations}: the file is damaged; get a fresh copy`);
  }
  if (macData.iterations > MAX_PKCS12_KDF_ITERATIONS) throw tooManyIterations(source, 'MAC', macData.iterations, MAX_PKCS12_KDF_ITERATIONS);
  return hash;
}

/** Walks the unencrypted structure: each encrypted part's algorithm must be one we can use. */
function assertContentsSupported(der: Uint8Array, source: string): void {
  const safe = parseOrDamaged(source, () => AsnConvert.parse(der, AuthenticatedSafe));
  for (const info of safe) {
    if (info.contentType === OID.ENCRYPTED_DATA) {
      const encrypted = parseOrDamaged(source, () => parseEncryptedData(new Uint8Array(info.content)));
      assertDecryptionSupported(encrypted.algorithm, certificatesContext(source));
    } else if (info.contentType === OID.DATA) {
      const bags = parseOrDamaged(source, () => AsnConvert.parse(octetStringContents(info.content), SafeContents));
      for (const bag of bags) {
        if (bag.bagId !== id_pkcs8ShroudedKeyBag) continue;
        const shrouded = parseOrDamaged(source, () => AsnConvert.parse(bag.bagValue, EncryptedPrivateKeyInfo));
        assertDecryptionSupported(encryptionAlgorithmOf(shrouded), privateKeyContext(source));
      }
    } else {
      throw publicKeyEncrypted(source, info.contentType);
    }
  }
}

function certificatesContext(source: string): DecryptionContext {
  return { source, unsupported: (name) => `${source} encrypts its certificates with ${name}, which this tool does not support: ${REEXPORT_HINT}` };
}

function privateKeyContext(source: string): DecryptionContext {
  return { source, unsupported: (name) => `${source} encrypts its private key with ${name}, which this tool does not support: ${REEXPORT_HINT}` };
}

function publicKeyEncrypted(source: string, contentType: string): SignerError {
  return new SignerError('KEY_INVALID', `${source} holds public-key encrypted contents (${contentType}), which this tool does not support: ${REEXPORT_HINT}`);
}

function encryptionAlgorithmOf(info: EncryptedPrivateKeyInfo): EncryptionAlgorithm {
  return {
    oid: info.encryptionAlgorithm.algorithm,
    ...(info.encryptionAlgorithm.parameters ? { parameters: new Uint8Array(info.encryptionAlgorithm.parameters) } : {}),
  };
}

function macVerifies(macData: MacData, content: Uint8Array, bmp: Buffer, source: string): boolean {
  const hash = macHash(macData, source);
  const length = PKCS12_KDF_HASHES[hash].outputLength;
  const key = pkcs12Kdf(hash, bmp, new Uint8Array(macData.macSalt.buffer), macData.iterations, PKCS12_KDF_PURPOSE.MAC, length);
  try {
    const computed = createHmac(hash, key).update(content).digest();
    const stored = Buffer.from(macData.mac.digest.buffer);
    // Lengths are public (they follow from the hash); only the contents are compared in constant time.
    return stored.length === computed.length && timingSafeEqual(computed, stored);
  } finally {
    key.fill(0);
  }
}

async function readAuthenticatedSafe(
  der: Uint8Array,
  password: PasswordForms,
  source: string,
  passwordGiven: boolean,
): Promise<Pkcs12Contents> {
  const contents: { privateKeys: Buffer[]; certificates: Uint8Array[] } = { privateKeys: [], certificates: [] };
  const wrongPassword = (): SignerError => passwordError(source, passwordGiven);
  try {
    const safe = parseOrDamaged(source, () => AsnConvert.parse(der, AuthenticatedSafe));
    for (const info of safe) {
      let safeContentsDer: Uint8Array;
      if (info.contentType === OID.DATA) {
        safeContentsDer = parseOrDamaged(source, () => octetStringContents(info.content));
      } else if (info.contentType === OID.ENCRYPTED_DATA) {
        const encrypted = parseOrDamaged(source, () => parseEncryptedData(new Uint8Array(info.content)));
        const plain = await decryptWithPassword(encrypted.algorithm, encrypted.ciphertext, password, certificatesContext(source));
        if (plain === undefined) throw wrongPassword();
        safeContentsDer = plain;
      } else {
        throw publicKeyEncrypted(source, info.contentType);
      }
      const decrypted = info.contentType === OID.ENCRYPTED_DATA;
      try {
        await collectBags(parseSafeContents(safeContentsDer, decrypted, source, wrongPassword), password, source, contents, wrongPassword);
      } finally {
        // Decrypted safes can hold unencrypted key bags; everything needed was copied out, and a
        // failure half way must not leave them behind either.
        if (decrypted) safeContentsDer.fill(0);
      }
    }
    return contents;
  } catch (error) {
    for (const key of contents.privateKeys) key.fill(0);
    throw error;
  }
}

function parseSafeContents(der: Uint8Array, decrypted: boolean, source: string, wrongPassword: () => SignerError): SafeContents {
  try {
    return AsnConvert.parse(der, SafeContents);
  } catch (cause) {
    // Decrypted bytes that do not parse: the padding happened to look right under a wrong password.
    if (decrypted) throw wrongPassword();
    throw new SignerError('KEY_INVALID', `${source} is not a valid PKCS#12 file: the file is damaged; get a fresh copy`, { cause });
  }
}

async function collectBags(
  bags: Iterable<SafeBag>,
  password: PasswordForms,
  source: string,
  contents: { privateKeys: Buffer[]; certificates: Uint8Array[] },
  wrongPassword: () => SignerError,
): Promise<void> {
  for (const bag of bags) {
    switch (bag.bagId) {
      case id_keyBag:
        contents.privateKeys.push(Buffer.from(new Uint8Array(bag.bagValue)));
        break;
      case id_pkcs8ShroudedKeyBag: {
        const info = parseOrDamaged(source, () => AsnConvert.parse(bag.bagValue, EncryptedPrivateKeyInfo));
        const plain = await decryptWithPassword(encryptionAlgorithmOf(info), new Uint8Array(info.encryptedData.buffer), password, privateKeyContext(source));
        if (plain === undefined) throw wrongPassword();
        contents.privateKeys.push(plain);
        break;
      }
      case id_certBag: {
        const certBag = parseOrDamaged(source, () => AsnConvert.parse(bag.bagValue, CertBag));
        if (certBag.certId === id_x509Certificate) {
          contents.certificates.push(parseOrDamaged(source, () => octetStringContents(certBag.certValue)));
        }
        break;
      }
      case OID.SAFE_CONTENTS_BAG:
        await collectBags(parseOrDamaged(source, () => AsnConvert.parse(bag.bagValue, SafeContents)), password, source, contents, wrongPassword);
        break;
      default:
        // CRLs, secrets and unknown bags play no part in signing.
        break;
    }
  }
}

/** EncryptedData (RFC 5652 section 8) as PKCS#12 uses it: no originator info, one algorithm. */
function parseEncryptedData(der: Uint8Array): { algorithm: EncryptionAlgorithm; ciphertext: Uint8Array } {
  const [, encryptedContentInfo] = expectDerConstructed(readWholeDerElement(der), DER_TAG.SEQUENCE, 2, 'EncryptedData');
  const [, algorithmField, content] = expectDerConstructed(encryptedContentInfo, DER_TAG.SEQUENCE, 3, 'EncryptedContentInfo');
  const [oidField, parameters] = expectDerConstructed(algorithmField, DER_TAG.SEQUENCE, 1, 'contentEncryptionAlgorithm');
  const oid = decodeDerOid(oidField, 'contentEncryptionAlgorithm');
  let ciphertext: Uint8Array;
  if (content?.tag === DER_TAG.CONTEXT_0_PRIMITIVE) {
    ciphertext = content.value;
  } else if (content?.tag === DER_TAG.CONTEXT_0_CONSTRUCTED) {
    // BER writers split the content into OCTET STRING segments.
    ciphertext = Buffer.concat(readDerChildren(content).map((segment) => segment.value));
  } else {
    throw new SignerError('INTERNAL', 'malformed DER: EncryptedContentInfo has no encryptedContent');
  }
  return { algorithm: { oid, ...(parameters === undefined ? {} : { parameters: parameters.encoded }) }, ciphertext };
}

/** A copy, so the caller may zero the input without touching the result. */
function octetStringContents(der: ArrayBuffer): Uint8Array {
  return new Uint8Array(AsnConvert.parse(der, OctetString).buffer).slice();
}

function parseOrDamaged<T>(source: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    throw new SignerError('KEY_INVALID', `${source} is not a valid PKCS#12 file: the file is damaged; get a fresh copy`, { cause });
  }
}
