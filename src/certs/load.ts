import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { describeReadFailure, readUserFile } from '../files/read-user-file.js';
import { SignerError } from '../errors.js';
import type { KeyType } from '../sigv4x509/types.js';
import { DER_TAG, decodeDerOid, decodeDerSmallInteger, readDerChildren, readDerElement, readWholeDerElement } from '../asn1/der.js';
import { mlDsaParametersOfOid } from './mldsa-parameters.js';
import { formatDistinguishedName } from './name.js';
import { keyTypeOfPublicKeyAlgorithm } from './key-type.js';
import { looksLikePem, parsePemBlocks } from './pem.js';
import { parseCertificateDer, type ParsedCertificate } from './x509.js';

export type ReadFile = (path: string) => Buffer;

/** What `read-certificate-data`, --debug and error messages say about a certificate. */
export interface CertificateDescription {
  /** RFC 4514, most specific first: "CN=leaf,O=Example". Empty string for an empty subject. */
  readonly subject: string;
  readonly issuer: string;
  /** The serial in decimal, as SigV4-X509's Credential= carries it. */
  readonly serialNumberDecimal: string;
  /** Lower-case hex of the serial's magnitude, even length, no leading zero byte. */
  readonly serialNumberHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lower-case hex SHA-256 of the DER, no separators. */
  readonly fingerprintSha256: string;
  /** The family the service signs with; 'UNSUPPORTED' for anything else (e.g. Ed25519, RSA-PSS-only). */
  readonly keyType: KeyType | 'UNSUPPORTED';
  /** Human detail of the public key: "RSA 2048", "EC P-256", or the algorithm OID. */
  readonly keyDetail: string;
}

/**
 * Every certificate in a PEM (CERTIFICATE blocks, in order) or DER file (one or several
 * concatenated certificates), each checked to be a well-formed X.509 certificate.
 */
export function loadCertificateFile(path: string, readFile: ReadFile = readUserFile): Uint8Array[] {
  const source = `certificate file ${path}`;
  const bytes = readCertificateBytes(path, source, '--certificate', readFile);
  if (!looksLikePem(bytes) && isPkcs12(bytes)) {
    throw new SignerError('CERT_INVALID', `${source} is a PKCS#12 file: pass it as --certificate without --private-key, so the key and certificates inside are used`);
  }
  return parseCertificates(bytes, source);
}

/** The leaf of a --certificate file: its first certificate. */
export function loadLeafCertificate(path: string, readFile: ReadFile = readUserFile): Uint8Array {
  const [leaf] = loadCertificateFile(path, readFile);
  // parseCertificates already refused a file without one; this keeps the type honest.
  if (leaf === undefined) throw new SignerError('CERT_INVALID', `${path} holds no certificate: pass a PEM or DER X.509 certificate`);
  return leaf;
}

/** `--intermediates`: every CERTIFICATE block of a PEM bundle (or DER certificates), in file order. */
export function loadIntermediates(path: string, readFile: ReadFile = readUserFile): Uint8Array[] {
  const source = `intermediates file ${path}`;
  return parseCertificates(readCertificateBytes(path, source, '--intermediates', readFile), source);
}

/**
 * The certificates in `bytes`, which hold PEM text or DER. Other PEM blocks (keys, parameters)
 * are skipped, so a combined key-and-certificate file works; at least one certificate must be there.
 */
export function parseCertificates(bytes: Uint8Array, source: string): Uint8Array[] {
  const certificates = looksLikePem(bytes) ? certificatesFromPem(bytes, source) : certificatesFromDer(bytes, source);
  if (certificates.length === 0) {
    throw new SignerError('CERT_INVALID', `${source} holds no certificate: pass a PEM or DER X.509 certificate`);
  }
  return certificates;
}

function certificatesFromPem(bytes: Uint8Array, source: string): Uint8Array[] {
  const blocks = parsePemBlocks(Buffer.from(bytes).toString('latin1'), { source, errorCode: 'CERT_INVALID' });
  const certificates: Uint8Array[] = [];
  for (const block of blocks) {
    if (block.label === 'PKCS7') {
      throw new SignerError('CERT_INVALID', `${source} holds a PKCS7 bundle: convert it with \`openssl pkcs7 -print_certs -in <file> -out certs.pem\` and pass certs.pem`);
    }
    if (block.label !== 'CERTIFICATE' && block.label !== 'X509 CERTIFICATE') continue;
    if (!isX509Certificate(block.der)) {
      throw new SignerError('CERT_INVALID', `${source}: the ${block.label} block that begins on line ${block.line} is not a valid X.509 certificate: the file is damaged; get a fresh copy`);
    }
    certificates.push(block.der);
  }
  return certificates;
}

function certificatesFromDer(bytes: Uint8Array, source: string): Uint8Array[] {
  const certificates: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let element;
    try {
      element = readDerElement(bytes, offset);
    } catch {
      element = undefined;
    }
    if (element === undefined || element.tag !== DER_TAG.SEQUENCE || !isX509Certificate(element.encoded)) {
      throw new SignerError('CERT_INVALID', `${source} is neither PEM nor DER X.509 certificates: pass a PEM or DER certificate file`);
    }
    certificates.push(new Uint8Array(element.encoded));
    offset += element.encoded.length;
  }
  return certificates;
}

function readCertificateBytes(path: string, source: string, flag: string, readFile: ReadFile): Uint8Array {
  try {
    return new Uint8Array(readFile(path));
  } catch (cause) {
    const detail = describeReadFailure(cause);
    const message = detail === 'ENOENT'
      ? `${source} does not exist: check the ${flag} path`
      : `cannot read ${source} (${detail}): check the ${flag} path and its permissions`;
    throw new SignerError('CERT_NOT_FOUND', message, { cause });
  }
}

/** Parses cleanly as X.509 with both our DER reader and OpenSSL (what node:crypto uses). */
export function isX509Certificate(der: Uint8Array): boolean {
  try {
    parseCertificateDer(der);
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

/**
 * A PFX (RFC 7292): SEQUENCE { INTEGER 3, ContentInfo, ... }. Recognised by shape only, so a
 * PKCS#12 file passed where a certificate or key is expected gets a message that says so.
 */
export function isPkcs12(bytes: Uint8Array): boolean {
  try {
    const [version, authSafe] = readDerChildren(readWholeDerElement(bytes));
    if (authSafe === undefined || decodeDerSmallInteger(version, 'PFX version') !== 3) return false;
    const [contentType] = readDerChildren(authSafe);
    const oid = decodeDerOid(contentType, 'PFX content type');
    return oid === '1.2.840.113549.1.7.1' || oid === '1.2.840.113549.1.7.2';
  } catch {
    return false;
  }
}

const CURVE_NAMES: ReadonlyMap<string, string> = new Map([
  ['prime256v1', 'P-256'],
  ['secp384r1', 'P-384'],
  ['secp521r1', 'P-521'],
]);

export function describeCertificate(der: Uint8Array): CertificateDescription {
  let certificate: ParsedCertificate;
  try {
    certificate = parseCertificateDer(der);
  } catch (cause) {
    throw new SignerError('CERT_INVALID', `the certificate (${der.length} bytes) is not a valid DER X.509 certificate: pass a PEM or DER certificate`, { cause });
  }
  const serial = serialNumberOf(certificate.serialNumber);
  const spkiOid = certificate.publicKeyAlgorithmOid;
  return {
    subject: formatDistinguishedName(certificate.subject),
    issuer: formatDistinguishedName(certificate.issuer),
    serialNumberDecimal: serial.decimal,
    serialNumberHex: serial.hex,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    keyType: keyTypeOfPublicKeyAlgorithm(spkiOid) ?? 'UNSUPPORTED',
    keyDetail: keyDetailOf(certificate.subjectPublicKeyInfo, spkiOid),
  };
}

/** Serials are two's complement INTEGERs; conforming ones are positive, others are shown signed. */
function serialNumberOf(bytes: Uint8Array): { decimal: string; hex: string } {
  if (bytes.length === 0) return { decimal: '0', hex: '00' };
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  if (((bytes[0] as number) & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  const magnitude = value < 0n ? -value : value;
  let hex = magnitude.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return { decimal: value.toString(10), hex: value < 0n ? `-${hex}` : hex };
}

function keyDetailOf(spki: Uint8Array, oid: string): string {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    switch (key.asymmetricKeyType) {
      case 'rsa':
        return `RSA ${details.modulusLength ?? '?'}`;
      case 'rsa-pss':
        return `RSA-PSS ${details.modulusLength ?? '?'}`;
      case 'ec': {
        const curve = details.namedCurve ?? 'unknown curve';
        return `EC ${CURVE_NAMES.get(curve) ?? curve}`;
      }
      default:
        return key.asymmetricKeyType ?? oid;
    }
  } catch {
    // node:crypto before OpenSSL 3.5 cannot load ML-DSA keys: name the parameter set from the OID.
    return mlDsaParametersOfOid(oid)?.name ?? oid;
  }
}
