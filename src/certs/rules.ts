/**
 * The certificate rules IAM Roles Anywhere applies (User Guide, "Trust model" and
 * "Authentication"), as pure checks over DER. The emulator enforces them and
 * the CLI runs them as a local pre-flight, so a user learns why a certificate would be refused
 * before the service answers with a bare "Untrusted Signing Certificate".
 *
 * Each check returns every violation it finds (empty array = acceptable), not just the first,
 * so one run tells the user everything to fix when reissuing.
 */
import { DER_TAG, decodeDerOid, expectDerConstructed, readDerChildren, readWholeDerElement } from '../asn1/der.js';
import type { KeyType } from '../sigv4x509/types.js';
import { keyTypeOfPublicKeyAlgorithm } from './key-type.js';
import { EXTENSION_OID, KEY_USAGE, decodeBasicConstraints, decodeKeyUsage, parseCertificateDer } from './x509.js';

export type RuleViolationCode =
  | 'CERT_UNPARSABLE'
  | 'CERT_NOT_V3'
  | 'CERT_IS_CA'
  | 'CERT_NOT_CA'
  | 'KEY_USAGE_MISSING'
  | 'KEY_USAGE_NO_DIGITAL_SIGNATURE'
  | 'KEY_USAGE_NO_CERT_SIGN'
  | 'SIGNATURE_ALGORITHM_WEAK'
  | 'SIGNATURE_ALGORITHM_UNKNOWN'
  | 'SUBJECT_EMPTY'
  | 'KEY_TYPE_UNSUPPORTED'
  | 'CERT_NOT_YET_VALID'
  | 'CERT_EXPIRED';

export interface RuleViolation {
  readonly code: RuleViolationCode;
  /** One user-facing line: what is wrong and what to do. */
  readonly message: string;
}

/** What the rules look at, decoded once; the emulator's path validation reads it too. */
export interface CertificateProfile {
  readonly version: 1 | 2 | 3;
  /** undefined when basicConstraints is absent. */
  readonly isCA: boolean | undefined;
  readonly pathLength: number | undefined;
  /** KEY_USAGE bits (src/certs/x509.ts), undefined when keyUsage is absent. */
  readonly keyUsage: number | undefined;
  readonly signatureAlgorithm: SignatureAlgorithmInfo;
  readonly subjectIsEmpty: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** undefined for key types the service does not sign with (Ed25519, DSA, RSASSA-PSS keys). */
  readonly keyType: KeyType | undefined;
  readonly publicKeyAlgorithmOid: string;
}

export interface SignatureAlgorithmInfo {
  readonly oid: string;
  /** A name people recognise, e.g. 'sha256WithRSAEncryption'; the OID when unknown. */
  readonly name: string;
  readonly strength: 'strong' | 'weak' | 'unknown';
}

/** Rules for the end-entity certificate sent in X-Amz-X509, evaluated at `now`. */
export function checkLeafCertificate(der: Uint8Array, now: Date): RuleViolation[] {
  const profile = tryInspect(der);
  if (!('version' in profile)) return [profile];
  const violations: RuleViolation[] = [...versionViolations(profile)];
  if (profile.isCA === true) {
    violations.push({
      code: 'CERT_IS_CA',
      message: 'certificate is a CA (basicConstraints CA:TRUE); IAM Roles Anywhere needs an end-entity certificate: issue a leaf',
    });
  }
  // The guide says keyUsage "MUST include Digital Signature": a missing extension fails too.
  if (profile.keyUsage === undefined) {
    if (profile.version === 3) {
      violations.push({
        code: 'KEY_USAGE_MISSING',
        message: 'certificate has no keyUsage extension; IAM Roles Anywhere needs keyUsage with digitalSignature: reissue it with keyUsage=digitalSignature',
      });
    }
  } else if ((profile.keyUsage & KEY_USAGE.digitalSignature) === 0) {
    violations.push({
      code: 'KEY_USAGE_NO_DIGITAL_SIGNATURE',
      message: 'certificate keyUsage lacks digitalSignature; IAM Roles Anywhere signs requests with this key: reissue it with keyUsage=digitalSignature',
    });
  }
  violations.push(...signatureAlgorithmViolations(profile));
  if (profile.subjectIsEmpty) {
    violations.push({
      code: 'SUBJECT_EMPTY',
      message: 'certificate subject is empty; IAM Roles Anywhere needs a subject (it maps it to session tags): reissue it with e.g. CN=<name>',
    });
  }
  if (profile.keyType === undefined) {
    violations.push({
      code: 'KEY_TYPE_UNSUPPORTED',
      message: `certificate key is ${publicKeyAlgorithmName(profile.publicKeyAlgorithmOid)}; IAM Roles Anywhere accepts RSA, EC and ML-DSA keys: reissue it for such a key`,
    });
  }
  violations.push(...validityViolations(profile, now));
  return violations;
}

/** Rules for an intermediate CA certificate in X-Amz-X509-Chain, evaluated at `now`. */
export function checkIntermediateCertificate(der: Uint8Array, now: Date): RuleViolation[] {
  const profile = tryInspect(der);
  if (!('version' in profile)) return [profile];
  return [
    ...versionViolations(profile),
    ...caViolations(profile, 'intermediate certificate'),
    ...signatureAlgorithmViolations(profile),
    ...validityViolations(profile, now),
  ];
}

/**
 * Rules for a trust-anchor certificate (what the service checks when a CA bundle is registered).
 * Validity is left to path validation: an anchor that expires later was still acceptable.
 */
export function checkTrustAnchor(der: Uint8Array): RuleViolation[] {
  const profile = tryInspect(der);
  if (!('version' in profile)) return [profile];
  return [...versionViolations(profile), ...caViolations(profile, 'trust anchor')];
}

/** Decodes what the rules need; throws on bytes that are not a DER X.509 certificate. */
export function inspectCertificate(der: Uint8Array): CertificateProfile {
  const certificate = parseCertificateDer(der);
  let isCA: boolean | undefined;
  let pathLength: number | undefined;
  let keyUsage: number | undefined;
  for (const extension of certificate.extensions) {
    if (extension.oid === EXTENSION_OID.basicConstraints) {
      ({ isCA, pathLength } = decodeBasicConstraints(extension.value));
    } else if (extension.oid === EXTENSION_OID.keyUsage) {
      keyUsage = decodeKeyUsage(extension.value);
    }
  }
  return {
    version: certificate.version,
    isCA,
    pathLength,
    keyUsage,
    signatureAlgorithm: describeSignatureAlgorithm(certificate.signatureAlgorithmOid, certificate.signatureAlgorithmParameters),
    subjectIsEmpty: certificate.subjectIsEmpty,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    keyType: keyTypeOfPublicKeyAlgorithm(certificate.publicKeyAlgorithmOid),
    publicKeyAlgorithmOid: certificate.publicKeyAlgorithmOid,
  };
}

const STRONG_SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = lookupTable<string>({
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '2.16.840.1.101.3.4.3.14': 'id-rsassa-pkcs1-v1_5-with-sha3-256',
  '2.16.840.1.101.3.4.3.15': 'id-rsassa-pkcs1-v1_5-with-sha3-384',
  '2.16.840.1.101.3.4.3.16': 'id-rsassa-pkcs1-v1_5-with-sha3-512',
  '2.16.840.1.101.3.4.3.10': 'id-ecdsa-with-sha3-256',
  '2.16.840.1.101.3.4.3.11': 'id-ecdsa-with-sha3-384',
  '2.16.840.1.101.3.4.3.12': 'id-ecdsa-with-sha3-512',
  '2.16.840.1.101.3.4.3.17': 'id-ml-dsa-44',
  '2.16.840.1.101.3.4.3.18': 'id-ml-dsa-65',
  '2.16.840.1.101.3.4.3.19': 'id-ml-dsa-87',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
});

// "SHA256 or stronger. MD5 and SHA1 signing algorithms are rejected" - SHA-224 is weaker too.
const WEAK_SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = lookupTable<string>({
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '2.16.840.1.101.3.4.3.1': 'dsa-with-sha224',
});

const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';
interface PssHash {
  readonly name: string;
  readonly strong: boolean;
}
const PSS_HASHES: Readonly<Record<string, PssHash>> = lookupTable<PssHash>({
  '1.3.14.3.2.26': { name: 'SHA-1', strong: false },
  '2.16.840.1.101.3.4.2.4': { name: 'SHA-224', strong: false },
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', strong: true },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', strong: true },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', strong: true },
});

const PUBLIC_KEY_ALGORITHM_NAMES: Readonly<Record<string, string>> = lookupTable<string>({
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS-only RSA',
});

/** `parameters` is the DER of the AlgorithmIdentifier's parameters, when it has any. */
export function describeSignatureAlgorithm(oid: string, parameters?: ArrayBuffer | Uint8Array | null): SignatureAlgorithmInfo {
  const strong = STRONG_SIGNATURE_ALGORITHMS[oid];
  if (strong !== undefined) return { oid, name: strong, strength: 'strong' };
  const weak = WEAK_SIGNATURE_ALGORITHMS[oid];
  if (weak !== undefined) return { oid, name: weak, strength: 'weak' };
  if (oid === RSASSA_PSS_OID) {
    // RFC 4055: absent hashAlgorithm means SHA-1, so a bare PSS identifier is weak.
    let hashOid = '1.3.14.3.2.26';
    try {
      if (parameters !== undefined && parameters !== null && parameters.byteLength > 2) {
        hashOid = pssHashOid(parameters instanceof Uint8Array ? parameters : new Uint8Array(parameters)) ?? hashOid;
      }
    } catch {
      return { oid, name: 'RSASSA-PSS (unreadable parameters)', strength: 'unknown' };
    }
    const hash = PSS_HASHES[hashOid];
    if (hash === undefined) return { oid, name: `RSASSA-PSS with hash ${hashOid}`, strength: 'unknown' };
    return { oid, name: `RSASSA-PSS with ${hash.name}`, strength: hash.strong ? 'strong' : 'weak' };
  }
  return { oid, name: oid, strength: 'unknown' };
}

/**
 * RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1, ... }
 * (RFC 4055): the hash OID, or undefined when the default applies.
 */
function pssHashOid(parameters: Uint8Array): string | undefined {
  const fields = readDerChildren(readWholeDerElement(parameters));
  const explicitHash = fields.find((field) => field.tag === DER_TAG.CONTEXT_0_CONSTRUCTED);
  if (explicitHash === undefined) return undefined;
  const [algorithm] = expectDerConstructed(explicitHash, DER_TAG.CONTEXT_0_CONSTRUCTED, 1, 'hashAlgorithm');
  return decodeDerOid(expectDerConstructed(algorithm, DER_TAG.SEQUENCE, 1, 'hashAlgorithm')[0], 'hashAlgorithm');
}

/** A frozen, prototype-free table: an OID like 'constructor' can never hit Object.prototype. */
function lookupTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

function tryInspect(der: Uint8Array): CertificateProfile | RuleViolation {
  try {
    return inspectCertificate(der);
  } catch {
    return {
      code: 'CERT_UNPARSABLE',
      message: 'certificate is not a DER X.509 certificate; pass a PEM or DER certificate file',
    };
  }
}

function versionViolations(profile: CertificateProfile): RuleViolation[] {
  if (profile.version === 3) return [];
  return [{
    code: 'CERT_NOT_V3',
    message: `certificate is X.509 v${profile.version}; IAM Roles Anywhere needs X.509 v3 (with extensions): reissue it as v3`,
  }];
}

function caViolations(profile: CertificateProfile, role: string): RuleViolation[] {
  const violations: RuleViolation[] = [];
  if (profile.isCA !== true) {
    const found = profile.isCA === false ? 'basicConstraints CA:FALSE' : 'no basicConstraints';
    violations.push({
      code: 'CERT_NOT_CA',
      message: `${role} is not a CA (${found}); it must have basicConstraints CA:TRUE: use the issuing CA's certificate`,
    });
  }
  // RFC 5280 4.2.1.3: a key that verifies certificate signatures must say so in keyUsage.
  if (profile.keyUsage === undefined) {
    if (profile.version === 3) {
      violations.push({
        code: 'KEY_USAGE_MISSING',
        message: `${role} has no keyUsage extension; a CA needs keyUsage with keyCertSign: reissue the CA with keyUsage=keyCertSign,cRLSign`,
      });
    }
  } else if ((profile.keyUsage & KEY_USAGE.keyCertSign) === 0) {
    violations.push({
      code: 'KEY_USAGE_NO_CERT_SIGN',
      message: `${role} keyUsage lacks keyCertSign; a CA needs it to issue certificates: reissue the CA with keyUsage=keyCertSign,cRLSign`,
    });
  }
  return violations;
}

function signatureAlgorithmViolations(profile: CertificateProfile): RuleViolation[] {
  const algorithm = profile.signatureAlgorithm;
  if (algorithm.strength === 'weak') {
    return [{
      code: 'SIGNATURE_ALGORITHM_WEAK',
      message: `certificate is signed with ${algorithm.name}; IAM Roles Anywhere rejects MD5 and SHA-1 (needs SHA-256 or stronger): reissue it signed with SHA-256`,
    }];
  }
  if (algorithm.strength === 'unknown') {
    return [{
      code: 'SIGNATURE_ALGORITHM_UNKNOWN',
      message: `certificate is signed with an unrecognised algorithm (${algorithm.name}); IAM Roles Anywhere needs RSA, ECDSA or ML-DSA with SHA-256 or stronger: reissue it`,
    }];
  }
  return [];
}

function validityViolations(profile: CertificateProfile, now: Date): RuleViolation[] {
  if (now.getTime() < profile.notBefore.getTime()) {
    return [{
      code: 'CERT_NOT_YET_VALID',
      message: `certificate is not valid before ${formatTime(profile.notBefore)} (now ${formatTime(now)}); check the clock, or wait until it is valid`,
    }];
  }
  if (now.getTime() > profile.notAfter.getTime()) {
    return [{
      code: 'CERT_EXPIRED',
      message: `certificate expired at ${formatTime(profile.notAfter)} (now ${formatTime(now)}); renew it`,
    }];
  }
  return [];
}

function publicKeyAlgorithmName(oid: string): string {
  return PUBLIC_KEY_ALGORITHM_NAMES[oid] ?? `an unsupported type (${oid})`;
}

function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
