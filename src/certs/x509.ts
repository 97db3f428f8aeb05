import {
  DER_TAG,
  decodeDerBoolean,
  decodeDerOid,
  decodeDerSmallInteger,
  expectDerConstructed,
  expectDerPrimitive,
  readDerChildren,
  readWholeDerElement,
  type DerElement,
} from '../asn1/der.js';
import { SignerError } from '../errors.js';

/**
 * The parts of an X.509 certificate (RFC 5280 section 4.1) that the signer and the rules read,
 * decoded with the project's own DER reader. This keeps the ASN.1 schema packages (about half
 * of a cold start when they were used here) off every credential path; OpenSSL, through
 * node:crypto's X509Certificate, is the second opinion on well-formedness.
 */
export interface ParsedCertificate {
  readonly version: 1 | 2 | 3;
  /** Contents octets of the serialNumber INTEGER (two's complement, as encoded). */
  readonly serialNumber: Uint8Array;
  /** The whole DER of the issuer and subject Names, for formatDistinguishedName. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly subjectIsEmpty: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The whole DER of the SubjectPublicKeyInfo. */
  readonly subjectPublicKeyInfo: Uint8Array;
  readonly publicKeyAlgorithmOid: string;
  readonly signatureAlgorithmOid: string;
  /** The DER of the outer signatureAlgorithm's parameters, when present. */
  readonly signatureAlgorithmParameters?: Uint8Array;
  readonly extensions: readonly CertificateExtension[];
}

export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** Contents of extnValue: the DER of the extension's own structure. */
  readonly value: Uint8Array;
}

const TAG = Object.freeze({
  VERSION: 0xa0,
  ISSUER_UNIQUE_ID: 0x81,
  SUBJECT_UNIQUE_ID: 0x82,
  EXTENSIONS: 0xa3,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
});

/** Throws SignerError('INTERNAL', 'malformed DER: ...') for anything that is not a DER certificate. */
export function parseCertificateDer(der: Uint8Array): ParsedCertificate {
  const [tbs, signatureAlgorithm, signature] = expectDerConstructed(readWholeDerElement(der), DER_TAG.SEQUENCE, 3, 'Certificate');
  expectDerPrimitive(signature, DER_TAG.BIT_STRING, 'signatureValue');
  const fields = expectDerConstructed(tbs, DER_TAG.SEQUENCE, 6, 'TBSCertificate');
  let index = 0;
  let version: 1 | 2 | 3 = 1;
  if (fields[0]?.tag === TAG.VERSION) {
    const [versionField] = expectDerConstructed(fields[0], TAG.VERSION, 1, 'version');
    const number = decodeDerSmallInteger(versionField, 'version', 2);
    version = number === 2 ? 3 : number === 1 ? 2 : 1;
    index = 1;
  }
  const serialNumber = expectDerPrimitive(fields[index], DER_TAG.INTEGER, 'serialNumber');
  expectDerConstructed(fields[index + 1], DER_TAG.SEQUENCE, 1, 'signature');
  const issuer = expectName(fields[index + 2], 'issuer');
  const [notBefore, notAfter] = expectDerConstructed(fields[index + 3], DER_TAG.SEQUENCE, 2, 'validity');
  const subject = expectName(fields[index + 4], 'subject');
  const spki = fields[index + 5];
  const [spkiAlgorithm] = expectDerConstructed(spki, DER_TAG.SEQUENCE, 2, 'subjectPublicKeyInfo');
  const publicKeyAlgorithmOid = decodeDerOid(expectDerConstructed(spkiAlgorithm, DER_TAG.SEQUENCE, 1, 'algorithm')[0], 'algorithm');
  const extensions: CertificateExtension[] = [];
  for (const optional of fields.slice(index + 6)) {
    if (optional.tag === TAG.EXTENSIONS) {
      const [list] = expectDerConstructed(optional, TAG.EXTENSIONS, 1, 'extensions');
      for (const extension of expectDerConstructed(list, DER_TAG.SEQUENCE, 0, 'Extensions')) extensions.push(readExtension(extension));
    } else if (optional.tag !== TAG.ISSUER_UNIQUE_ID && optional.tag !== TAG.SUBJECT_UNIQUE_ID) {
      throw new SignerError('INTERNAL', `malformed DER: unexpected field with tag 0x${optional.tag.toString(16)} in TBSCertificate`);
    }
  }
  const [algorithmOid, parameters] = expectDerConstructed(signatureAlgorithm, DER_TAG.SEQUENCE, 1, 'signatureAlgorithm');
  return {
    version,
    serialNumber,
    issuer: issuer.encoded,
    subject: subject.encoded,
    subjectIsEmpty: subject.value.length === 0,
    notBefore: decodeTime(notBefore, 'notBefore'),
    notAfter: decodeTime(notAfter, 'notAfter'),
    subjectPublicKeyInfo: (spki as DerElement).encoded,
    publicKeyAlgorithmOid,
    signatureAlgorithmOid: decodeDerOid(algorithmOid, 'signatureAlgorithm'),
    ...(parameters !== undefined ? { signatureAlgorithmParameters: parameters.encoded } : {}),
    extensions,
  };
}

function expectName(element: DerElement | undefined, what: string): DerElement {
  // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue)
  for (const rdn of expectDerConstructed(element, DER_TAG.SEQUENCE, 0, what)) {
    for (const attribute of expectDerConstructed(rdn, DER_TAG.SET, 1, `${what} RDN`)) {
      const [type] = expectDerConstructed(attribute, DER_TAG.SEQUENCE, 2, `${what} attribute`);
      decodeDerOid(type, `${what} attribute type`);
    }
  }
  return element as DerElement;
}

function readExtension(element: DerElement): CertificateExtension {
  const [id, second, third] = expectDerConstructed(element, DER_TAG.SEQUENCE, 2, 'Extension');
  const critical = third === undefined ? false : decodeDerBoolean(second, 'critical');
  const value = expectDerPrimitive(third ?? second, DER_TAG.OCTET_STRING, 'extnValue');
  return { oid: decodeDerOid(id, 'extnID'), critical, value };
}

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280: 50-99 are 19xx) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z). */
function decodeTime(element: DerElement | undefined, what: string): Date {
  const text = element === undefined ? '' : Buffer.from(element.value).toString('latin1');
  let match: RegExpExecArray | null = null;
  let year = 0;
  if (element?.tag === TAG.UTC_TIME) {
    match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)()Z$/.exec(text);
    if (match !== null) {
      const short = Number(match[1]);
      year = short >= 50 ? 1900 + short : 2000 + short;
    }
  } else if (element?.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?Z$/.exec(text);
    if (match !== null) year = Number(match[1]);
  }
  if (match === null) throw new SignerError('INTERNAL', `malformed DER: ${what} is not a UTCTime or GeneralizedTime in UTC`);
  const milliseconds = match[7] === undefined || match[7] === '' ? 0 : Math.floor(Number(`0${match[7]}`) * 1000);
  const date = new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]), milliseconds));
  // Date.UTC maps 0-99 to 1900-1999 and rolls over out-of-range fields: refuse both.
  date.setUTCFullYear(year);
  if (Number.isNaN(date.getTime()) || date.getUTCMonth() !== Number(match[2]) - 1 || date.getUTCDate() !== Number(match[3])) {
    throw new SignerError('INTERNAL', `malformed DER: ${what} is not a valid date`);
  }
  return date;
}

/**
 * KeyUsage ::= BIT STRING: bit 0 (digitalSignature) is the most significant bit of the first
 * octet. Returned as a number whose bit i is named bit i, as KEY_USAGE below numbers them.
 */
export function decodeKeyUsage(extensionValue: Uint8Array): number {
  const bits = expectDerPrimitive(readWholeDerElement(extensionValue), DER_TAG.BIT_STRING, 'keyUsage');
  if (bits.length === 0) throw new SignerError('INTERNAL', 'malformed DER: keyUsage is an empty BIT STRING');
  let value = 0;
  for (let octet = 1; octet < bits.length && octet <= 2; octet++) {
    const byte = bits[octet] as number;
    for (let bit = 0; bit < 8; bit++) if ((byte & (0x80 >> bit)) !== 0) value |= 1 << ((octet - 1) * 8 + bit);
  }
  return value;
}

/** Named bits of KeyUsage (RFC 5280 4.2.1.3), as decodeKeyUsage numbers them. */
export const KEY_USAGE = Object.freeze({
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
});

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
export function decodeBasicConstraints(extensionValue: Uint8Array): { isCA: boolean; pathLength: number | undefined } {
  const fields = readDerChildren(readWholeDerElement(extensionValue));
  let isCA = false;
  let pathLength: number | undefined;
  for (const field of fields) {
    if (field.tag === DER_TAG.BOOLEAN) isCA = decodeDerBoolean(field, 'cA');
    else pathLength = decodeDerSmallInteger(field, 'pathLenConstraint');
  }
  return { isCA, pathLength };
}

export const EXTENSION_OID = Object.freeze({
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
});
