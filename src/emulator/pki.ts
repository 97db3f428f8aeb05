/**
 * A small PKI builder: throwaway certificate authorities and leaf certificates for the emulator,
 * the demo, the tests and `emulate --init`. Built on @peculiar/x509 and WebCrypto, so it runs
 * anywhere Node runs (no openssl binary). A leaf can certify any public key - a KeyObject, SPKI
 * DER or PEM - so keys generated inside a PKCS#11 token or a TPM get certificates too. The
 * options that make deliberately bad certificates (SHA-1, MD5, X.509 v1, CA:TRUE leaves, missing
 * extensions) exist so the service's certificate rules can be tested against real DER.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Certificate as AsnCertificate,
  SubjectPublicKeyInfo,
  Version as AsnVersion,
} from '@peculiar/asn1-x509';
import { encodePem } from '../certs/pem.js';
import { SignerError } from '../errors.js';
import { generateMlDsaKeyPair as generateMlDsaKeyPairPem, isMlDsaName, mlDsaNameOfOid, mlDsaOid, mlDsaSignWithPem, type MlDsaName } from './mldsa.js';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type Extension,
} from './x509.js';

/** Key algorithms node:crypto generates; generateKeyPair takes these. */
export type ClassicKeyAlgorithm = 'EC-P256' | 'EC-P384' | 'RSA-2048' | 'RSA-3072';
/** Every CA key algorithm; ML-DSA CAs sign their certificates with pure ML-DSA (RFC 9881). */
export type KeyAlgorithm = ClassicKeyAlgorithm | MlDsaName;

/** MD5 and SHA-1 exist only to build certificates the service must reject. */
export type SignatureHash = 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

/**
 * A public key in any form callers hold one: a KeyObject, SPKI DER, or a PEM string. An ML-DSA
 * key (which node:crypto on Node.js 20 cannot hold) is passed as SPKI DER.
 */
export type PublicKeyInput = KeyObject | Uint8Array | string;

export interface CertificateAuthority {
  readonly subject: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly certificatePem: string;
  readonly certificateDer: Uint8Array;
  /** PKCS#8 PEM, unencrypted: this is a throwaway CA, keep it away from real trust stores. */
  readonly privateKeyPem: string;
  readonly serialNumberHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly certificateDer: Uint8Array;
  readonly serialNumberHex: string;
}

export interface GeneratedKeyPair {
  readonly keyAlgorithm: ClassicKeyAlgorithm;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

interface CommonCertificateOptions {
  /** Defaults derive from it: notBefore = now - 5 minutes (clock skew), notAfter below. */
  readonly now?: Date;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Hex; a random positive 16-byte serial when omitted. */
  readonly serialNumber?: string;
  /** Hash of the issuer's signature over this certificate; SHA-256 when omitted. */
  readonly signatureHash?: SignatureHash;
  /** 1 writes an X.509 v1 certificate (no extensions at all), for rule tests. */
  readonly x509Version?: 1 | 3;
}

export interface CreateCertificateAuthorityOptions extends CommonCertificateOptions {
  readonly subject: string;
  readonly keyAlgorithm: KeyAlgorithm;
  /** Signs the new CA, making it an intermediate; self-signed root when omitted. */
  readonly issuer?: CertificateAuthority;
  readonly pathLength?: number;
  /** Default ['keyCertSign', 'cRLSign']; null omits the extension. */
  readonly keyUsage?: readonly KeyUsageName[] | null;
  /** Default true; null omits basicConstraints. For anchors the service must reject. */
  readonly basicConstraintsCA?: boolean | null;
}

export interface IssueLeafCertificateOptions extends CommonCertificateOptions {
  readonly issuer: CertificateAuthority;
  /** RFC 4514 string, e.g. 'CN=demo,O=Example'; '' gives an empty subject (rejected by the service). */
  readonly subject: string;
  readonly publicKey: PublicKeyInput;
  /** Default ['digitalSignature']; null omits the extension. */
  readonly keyUsage?: readonly KeyUsageName[] | null;
  /** Default false (written as CA:FALSE); null omits basicConstraints. */
  readonly basicConstraintsCA?: boolean | null;
}

const FIVE_MINUTES_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
const LEAF_LIFETIME_MS = 365 * DAY_MS;

const KEY_USAGE_FLAGS: Readonly<Record<KeyUsageName, KeyUsageFlags>> = Object.freeze({
  digitalSignature: KeyUsageFlags.digitalSignature,
  nonRepudiation: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  keyCertSign: KeyUsageFlags.keyCertSign,
  cRLSign: KeyUsageFlags.cRLSign,
});

interface SignatureAlgorithmEntry {
  readonly oid: string;
  /** Node's digest name for crypto.sign. */
  readonly nodeHash: string;
}

// OIDs from RFC 3279/4055/5758. RSA identifiers carry a NULL parameter, ECDSA ones none.
const RSA_SIGNATURE_ALGORITHMS: Readonly<Record<SignatureHash, SignatureAlgorithmEntry>> = {
  MD5: { oid: '1.2.840.113549.1.1.4', nodeHash: 'md5' },
  'SHA-1': { oid: '1.2.840.113549.1.1.5', nodeHash: 'sha1' },
  'SHA-256': { oid: '1.2.840.113549.1.1.11', nodeHash: 'sha256' },
  'SHA-384': { oid: '1.2.840.113549.1.1.12', nodeHash: 'sha384' },
  'SHA-512': { oid: '1.2.840.113549.1.1.13', nodeHash: 'sha512' },
};
const ECDSA_SIGNATURE_ALGORITHMS: Readonly<Record<Exclude<SignatureHash, 'MD5'>, SignatureAlgorithmEntry>> = {
  'SHA-1': { oid: '1.2.840.10045.4.1', nodeHash: 'sha1' },
  'SHA-256': { oid: '1.2.840.10045.4.3.2', nodeHash: 'sha256' },
  'SHA-384': { oid: '1.2.840.10045.4.3.3', nodeHash: 'sha384' },
  'SHA-512': { oid: '1.2.840.10045.4.3.4', nodeHash: 'sha512' },
};
const DER_NULL = new Uint8Array([0x05, 0x00]);

/** A software key pair; the private half as unencrypted PKCS#8 PEM. */
export function generateKeyPair(keyAlgorithm: ClassicKeyAlgorithm): GeneratedKeyPair {
  const { privateKey, publicKey } = generateNodeKeyPair(keyAlgorithm);
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keyAlgorithm, privateKeyPem, publicKey };
}

export interface GeneratedMlDsaKeyPair {
  readonly keyAlgorithm: MlDsaName;
  /** PKCS#8 PEM in the seed form (RFC 9881), unencrypted. */
  readonly privateKeyPem: string;
  /** SubjectPublicKeyInfo DER: pass it as `publicKey` to issueLeafCertificate. */
  readonly publicKey: Uint8Array;
}

/** An ML-DSA key pair from a random (or the given 32-byte) seed. */
export async function generateMlDsaKeyPair(keyAlgorithm: MlDsaName, seed?: Uint8Array): Promise<GeneratedMlDsaKeyPair> {
  const pair = await generateMlDsaKeyPairPem(keyAlgorithm, seed);
  return { keyAlgorithm, privateKeyPem: pair.privateKeyPem, publicKey: pair.spki };
}

/** A key pair of any algorithm the builder knows, ready for issueLeafCertificate's publicKey. */
export async function generateAnyKeyPair(keyAlgorithm: KeyAlgorithm): Promise<{ readonly privateKeyPem: string; readonly publicKey: PublicKeyInput }> {
  return isMlDsaName(keyAlgorithm) ? generateMlDsaKeyPair(keyAlgorithm) : generateKeyPair(keyAlgorithm);
}

export async function createCertificateAuthority(
  options: CreateCertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  if (options.issuer !== undefined) requireCertificateAuthority(options.issuer, 'createCertificateAuthority');
  const keyPair = isMlDsaName(options.keyAlgorithm)
    ? await generateMlDsaKeyPair(options.keyAlgorithm)
    : generateKeyPair(options.keyAlgorithm);
  const spki = keyPair.publicKey instanceof Uint8Array ? keyPair.publicKey : exportSpki(keyPair.publicKey);
  const validity = resolveValidity(options, CA_LIFETIME_MS);
  // A root signs itself: its own key, its own name.
  const signer: SigningParty = options.issuer ?? {
    subject: options.subject,
    keyAlgorithm: options.keyAlgorithm,
    privateKeyPem: keyPair.privateKeyPem,
    certificateDer: undefined,
    spki,
  };

  const certificateDer = await certify(options, signer, spki, validity, {
    isCA: options.basicConstraintsCA === undefined ? true : options.basicConstraintsCA,
    pathLength: options.pathLength,
    keyUsage: options.keyUsage === undefined ? ['keyCertSign', 'cRLSign'] : options.keyUsage,
  });
  return {
    subject: options.subject,
    keyAlgorithm: options.keyAlgorithm,
    certificateDer,
    certificatePem: derToPem(certificateDer),
    privateKeyPem: keyPair.privateKeyPem,
    serialNumberHex: serialNumberHexOf(certificateDer),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}

export async function issueLeafCertificate(options: IssueLeafCertificateOptions): Promise<IssuedCertificate> {
  requireCertificateAuthority(options.issuer, 'issueLeafCertificate');
  const spki = mlDsaSpkiOf(options.publicKey) ?? exportSpki(toPublicKeyObject(options.publicKey));
  const validity = resolveValidity(options, LEAF_LIFETIME_MS);

  const certificateDer = await certify(options, options.issuer, spki, validity, {
    isCA: options.basicConstraintsCA === undefined ? false : options.basicConstraintsCA,
    pathLength: undefined,
    keyUsage: options.keyUsage === undefined ? ['digitalSignature'] : options.keyUsage,
  });
  return {
    certificateDer,
    certificatePem: derToPem(certificateDer),
    serialNumberHex: serialNumberHexOf(certificateDer),
  };
}

/** PEM armour for one DER certificate (or another label), 64-column base64 as RFC 7468 asks. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  return encodePem(label, der);
}

interface ProfileExtensions {
  /** null omits basicConstraints. */
  readonly isCA: boolean | null;
  readonly pathLength: number | undefined;
  /** null omits keyUsage. */
  readonly keyUsage: readonly KeyUsageName[] | null;
}

/** The extensions every certificate here carries, then the signature: shared by CA and leaf. */
async function certify(
  options: CommonCertificateOptions & { readonly subject: string },
  signer: SigningParty,
  spki: Uint8Array,
  validity: { readonly notBefore: Date; readonly notAfter: Date },
  profile: ProfileExtensions,
): Promise<Uint8Array> {
  const extensions: Extension[] = [];
  if (profile.isCA !== null) extensions.push(new BasicConstraintsExtension(profile.isCA, profile.pathLength, true));
  if (profile.keyUsage !== null) extensions.push(new KeyUsagesExtension(keyUsageFlags(profile.keyUsage), true));
  extensions.push(await SubjectKeyIdentifierExtension.create(toArrayBuffer(spki)));
  extensions.push(await AuthorityKeyIdentifierExtension.create(toArrayBuffer(signerSpki(signer))));
  return buildCertificate({
    signer,
    subject: options.subject,
    spki,
    validity,
    serialNumber: options.serialNumber,
    signatureHash: options.signatureHash ?? 'SHA-256',
    x509Version: options.x509Version ?? 3,
    extensions,
  });
}

interface SigningParty {
  readonly subject: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly privateKeyPem: string;
  /** The CA certificate (absent while a root is being made): its SPKI names the signer. */
  readonly certificateDer: Uint8Array | undefined;
  /** Given for a root in the making, whose key node:crypto may not hold (ML-DSA). */
  readonly spki?: Uint8Array;
}

interface BuildCertificateInput {
  readonly signer: SigningParty;
  readonly subject: string;
  readonly spki: Uint8Array;
  readonly validity: { readonly notBefore: Date; readonly notAfter: Date };
  readonly serialNumber: string | undefined;
  readonly signatureHash: SignatureHash;
  readonly x509Version: 1 | 3;
  readonly extensions: Extension[];
}

async function buildCertificate(input: BuildCertificateInput): Promise<Uint8Array> {
  const { signer, signatureHash } = input;
  if (isMlDsaName(signer.keyAlgorithm)) return buildMlDsaSignedCertificate(input);
  const isRsa = signer.keyAlgorithm.startsWith('RSA');
  if (!isRsa && signatureHash === 'MD5') {
    throw new SignerError('NOT_SUPPORTED', 'MD5 signatures exist only for RSA issuers; use an RSA CA or SHA-1 for a weak-hash test');
  }
  // WebCrypto has no MD5, and @peculiar/x509 always writes v3: both cases are re-signed below.
  const needsRewrite = signatureHash === 'MD5' || input.x509Version === 1;
  const webCryptoHash = signatureHash === 'MD5' ? 'SHA-256' : signatureHash;
  const signingKey = await importSigningKey(signer, webCryptoHash);
  const certificate = await X509CertificateGenerator.create({
    subject: input.subject,
    issuer: signer.subject,
    publicKey: toArrayBuffer(input.spki),
    signingKey,
    signingAlgorithm: isRsa ? { name: 'RSASSA-PKCS1-v1_5', hash: webCryptoHash } : { name: 'ECDSA', hash: webCryptoHash },
    serialNumber: input.serialNumber ?? randomSerialNumberHex(),
    notBefore: input.validity.notBefore,
    notAfter: input.validity.notAfter,
    extensions: input.x509Version === 1 ? [] : input.extensions,
  });
  const der = new Uint8Array(certificate.rawData);
  if (!needsRewrite) return der;
  return resignCertificate(der, signer, signatureHash, input.x509Version);
}

/** Rewrites version and signature algorithm of a finished certificate, then signs it again. */
function resignCertificate(der: Uint8Array, signer: SigningParty, signatureHash: SignatureHash, x509Version: 1 | 3): Uint8Array {
  const isRsa = signer.keyAlgorithm.startsWith('RSA');
  const entry = isRsa
    ? RSA_SIGNATURE_ALGORITHMS[signatureHash]
    : ECDSA_SIGNATURE_ALGORITHMS[signatureHash as Exclude<SignatureHash, 'MD5'>];
  const certificate = AsnConvert.parse(der, AsnCertificate);
  const algorithm = new AlgorithmIdentifier({
    algorithm: entry.oid,
    ...(isRsa ? { parameters: toArrayBuffer(DER_NULL) } : {}),
  });
  certificate.tbsCertificate.signature = algorithm;
  certificate.signatureAlgorithm = algorithm;
  if (x509Version === 1) {
    certificate.tbsCertificate.version = AsnVersion.v1;
    delete certificate.tbsCertificate.extensions;
  }
  const tbs = new Uint8Array(AsnConvert.serialize(certificate.tbsCertificate));
  // node:crypto signs PKCS#1 v1.5 for RSA and DER-encoded ECDSA: exactly X.509's signatureValue.
  const signature = nodeSign(entry.nodeHash, tbs, createPrivateKey(signer.privateKeyPem));
  certificate.signatureValue = toArrayBuffer(signature);
  return new Uint8Array(AsnConvert.serialize(certificate));
}

/**
 * WebCrypto cannot sign with ML-DSA: @peculiar/x509 lays out the TBSCertificate under a
 * throwaway P-256 key, then the TBS gets the ML-DSA algorithm identifier (no parameters) and a
 * pure ML-DSA signature over its DER, as RFC 9881 section 3 has it.
 */
async function buildMlDsaSignedCertificate(input: BuildCertificateInput): Promise<Uint8Array> {
  if (input.signatureHash !== 'SHA-256') {
    throw new SignerError('NOT_SUPPORTED', `an ML-DSA CA signs with pure ML-DSA, which has no separate hash: leave signatureHash out (got ${input.signatureHash})`);
  }
  const placeholder = generateKeyPair('EC-P256');
  const draft = await buildCertificate({ ...input, signer: { ...input.signer, keyAlgorithm: 'EC-P256', privateKeyPem: placeholder.privateKeyPem } });
  const certificate = AsnConvert.parse(draft, AsnCertificate);
  const algorithm = new AlgorithmIdentifier({ algorithm: mlDsaOid(input.signer.keyAlgorithm as MlDsaName) });
  certificate.tbsCertificate.signature = algorithm;
  certificate.signatureAlgorithm = algorithm;
  if (input.x509Version === 1) {
    certificate.tbsCertificate.version = AsnVersion.v1;
    delete certificate.tbsCertificate.extensions;
  }
  const tbs = new Uint8Array(AsnConvert.serialize(certificate.tbsCertificate));
  const { signature } = await mlDsaSignWithPem(input.signer.privateKeyPem, tbs);
  certificate.signatureValue = toArrayBuffer(signature);
  return new Uint8Array(AsnConvert.serialize(certificate));
}

async function importSigningKey(signer: SigningParty, hash: Exclude<SignatureHash, 'MD5'>): Promise<webcrypto.CryptoKey> {
  const pkcs8 = createPrivateKey(signer.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  // An RSA CryptoKey is bound to one hash at import; @peculiar/x509 signs with the key's own.
  const algorithm = signer.keyAlgorithm.startsWith('RSA')
    ? { name: 'RSASSA-PKCS1-v1_5', hash }
    : { name: 'ECDSA', namedCurve: signer.keyAlgorithm === 'EC-P384' ? 'P-384' : 'P-256' };
  return webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
}

function signerSpki(signer: SigningParty): Uint8Array {
  if (signer.spki !== undefined) return signer.spki;
  if (signer.certificateDer !== undefined) {
    return new Uint8Array(AsnConvert.serialize(AsnConvert.parse(signer.certificateDer, AsnCertificate).tbsCertificate.subjectPublicKeyInfo));
  }
  return exportSpki(createPublicKey(signer.privateKeyPem));
}

/** SPKI DER of an ML-DSA public key given as DER or PEM; undefined for every other key. */
function mlDsaSpkiOf(input: PublicKeyInput): Uint8Array | undefined {
  let der: Uint8Array;
  if (input instanceof Uint8Array) der = input;
  else if (typeof input === 'string' && input.includes('-----BEGIN PUBLIC KEY-----')) der = Buffer.from(input.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  else return undefined;
  try {
    return mlDsaNameOfOid(AsnConvert.parse(der, SubjectPublicKeyInfo).algorithm.algorithm) === undefined ? undefined : der;
  } catch {
    return undefined;
  }
}

function generateNodeKeyPair(keyAlgorithm: ClassicKeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (keyAlgorithm) {
    case 'EC-P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EC-P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'RSA-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'RSA-3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 });
    default:
      throw new SignerError('KEY_TYPE_UNSUPPORTED', `key algorithm ${String(keyAlgorithm)} is not supported; use EC-P256, EC-P384, RSA-2048 or RSA-3072`);
  }
}

function toPublicKeyObject(input: PublicKeyInput): KeyObject {
  try {
    if (typeof input === 'string') return createPublicKey(input);
    if (input instanceof Uint8Array) return createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
    if (input.type === 'private') return createPublicKey(input);
    return input;
  } catch (error) {
    throw new SignerError('KEY_INVALID', 'the public key to certify is neither a KeyObject, SPKI DER nor a PEM public key; export it as SPKI', { cause: error });
  }
}

function exportSpki(publicKey: KeyObject): Uint8Array {
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}

function resolveValidity(options: CommonCertificateOptions, lifetimeMs: number): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  const notBefore = options.notBefore ?? new Date(now.getTime() - FIVE_MINUTES_MS);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + lifetimeMs);
  return { notBefore, notAfter };
}

function keyUsageFlags(names: readonly KeyUsageName[]): KeyUsageFlags {
  return names.reduce<number>((flags, name) => flags | KEY_USAGE_FLAGS[name], 0) as KeyUsageFlags;
}

/** 16 random bytes with the top bit clear and the first byte non-zero: a positive 128-bit serial. */
function randomSerialNumberHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function serialNumberHexOf(der: Uint8Array): string {
  const certificate = AsnConvert.parse(der, AsnCertificate);
  return Buffer.from(certificate.tbsCertificate.serialNumber).toString('hex');
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const ISSUER_EXPECTED =
  'a CertificateAuthority object: the result of createCertificateAuthority() or loadCertificateAuthority(dir) (subject, keyAlgorithm, certificatePem, privateKeyPem)';

/** Throws a SignerError naming what is expected unless `issuer` can sign certificates. */
export function requireCertificateAuthority(issuer: unknown, functionName: string): asserts issuer is CertificateAuthority {
  const candidate = issuer as Partial<Record<keyof CertificateAuthority, unknown>> | null | undefined;
  const usable =
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.subject === 'string' &&
    typeof candidate.keyAlgorithm === 'string' &&
    typeof candidate.privateKeyPem === 'string';
  if (!usable) {
    throw new SignerError('USAGE', `${functionName}: issuer must be ${ISSUER_EXPECTED}`);
  }
}
