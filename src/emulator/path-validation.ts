/**
 * PKIX path validation (RFC 5280 section 6, the parts the service relies on) from the leaf in
 * X-Amz-X509, through the intermediates in X-Amz-X509-Chain, to one certificate of the trust
 * anchor named in the request: names chain, every signature verifies with the issuer's key,
 * every certificate is valid at `now`, intermediates are CAs with keyCertSign and strong
 * signatures, and no CA's pathLenConstraint is exceeded (the anchor's included, as OpenSSL and
 * Go do). Pure: the clock is a parameter.
 */
import { X509Certificate } from 'node:crypto';
import { readDerChildren, readWholeDerElement } from '../asn1/der.js';
import { checkIntermediateCertificate, checkLeafCertificate, inspectCertificate, type CertificateProfile } from '../certs/rules.js';
import { memoizedByDer } from './by-der.js';
import { mlDsaNameOfOid, type MlDsaVerifier } from './mldsa.js';

export type PathValidationResult =
  | { readonly ok: true; readonly path: readonly Uint8Array[] }
  | { readonly ok: false; readonly reason: PathFailureReason; readonly detail: string };

export type PathFailureReason =
  | 'LEAF_REJECTED'
  | 'INTERMEDIATE_REJECTED'
  | 'ANCHOR_NOT_VALID_NOW'
  | 'CHAIN_UNTRUSTED'
  | 'PATH_LENGTH_EXCEEDED';

interface Node {
  readonly der: Uint8Array;
  readonly certificate: X509Certificate;
  readonly profile: CertificateProfile;
}

/** A leaf signed by its issuer, and so on up; longer than this is a loop or abuse. */
const MAX_PATH_CERTIFICATES = 8;

export function validateCertificatePath(
  leafDer: Uint8Array,
  intermediateDers: readonly Uint8Array[],
  anchorDers: readonly Uint8Array[],
  now: Date,
  /** Needed for ML-DSA-signed certificates, which OpenSSL before 3.5 cannot verify. */
  mlDsaVerifier?: MlDsaVerifier,
): PathValidationResult {
  const issued = (candidate: Node, child: Node): boolean => issuedBy(candidate, child, mlDsaVerifier);
  const leafViolations = checkLeafCertificate(leafDer, now);
  if (leafViolations.length > 0) {
    return { ok: false, reason: 'LEAF_REJECTED', detail: leafViolations.map((violation) => violation.message).join('; ') };
  }
  const leaf = toNode(leafDer);
  if (leaf === undefined) return { ok: false, reason: 'LEAF_REJECTED', detail: 'certificate is not a DER X.509 certificate' };
  // A container may include the leaf in the chain too; it is not an issuer of itself.
  const intermediates = intermediateDers
    .filter((der) => !Buffer.from(der).equals(Buffer.from(leafDer)))
    .map(toNode)
    .filter((node): node is Node => node !== undefined);
  const anchors = anchorDers.map(toNode).filter((node): node is Node => node !== undefined);

  const path: Node[] = [leaf];
  let current = leaf;
  for (;;) {
    const anchor = anchors.find((candidate) => issued(candidate, current));
    if (anchor !== undefined) {
      return finishAtAnchor(path, anchor, now);
    }
    const next = intermediates.find((candidate) => !path.includes(candidate) && issued(candidate, current));
    if (next === undefined || path.length >= MAX_PATH_CERTIFICATES) {
      return {
        ok: false,
        reason: 'CHAIN_UNTRUSTED',
        detail: `no path from "${subjectOf(current)}" to the trust anchor: the issuer "${oneLine(current.certificate.issuer)}" is neither a trust-anchor certificate nor in X-Amz-X509-Chain`,
      };
    }
    const violations = checkIntermediateCertificate(next.der, now);
    if (violations.length > 0) {
      return { ok: false, reason: 'INTERMEDIATE_REJECTED', detail: `intermediate "${subjectOf(next)}": ${violations.map((violation) => violation.message).join('; ')}` };
    }
    path.push(next);
    current = next;
  }
}

function finishAtAnchor(path: readonly Node[], anchor: Node, now: Date): PathValidationResult {
  const at = now.getTime();
  if (at < anchor.profile.notBefore.getTime() || at > anchor.profile.notAfter.getTime()) {
    return { ok: false, reason: 'ANCHOR_NOT_VALID_NOW', detail: `trust anchor "${subjectOf(anchor)}" is not valid now (valid ${anchor.certificate.validFrom} to ${anchor.certificate.validTo})` };
  }
  // path = [leaf, intermediate1 (issuer of leaf), ...]; a CA at index i has i - 1 CAs below it
  // that are not self-issued (RFC 5280 6.1.4 (l)/(m)).
  const full = [...path, anchor];
  for (let index = 1; index < full.length; index += 1) {
    const ca = full[index];
    if (ca === undefined || ca.profile.pathLength === undefined) continue;
    const casBelow = index - 1;
    if (casBelow > ca.profile.pathLength) {
      return {
        ok: false,
        reason: 'PATH_LENGTH_EXCEEDED',
        detail: `"${subjectOf(ca)}" allows ${ca.profile.pathLength} intermediate CA(s) below it (pathLenConstraint) but the path has ${casBelow}`,
      };
    }
  }
  return { ok: true, path: full.map((node) => node.der) };
}

/** Issuer name matches and the signature verifies with the candidate's key. */
function issuedBy(candidate: Node, child: Node, mlDsaVerifier: MlDsaVerifier | undefined): boolean {
  const mlDsa = mlDsaNameOfOid(child.profile.signatureAlgorithm.oid);
  if (mlDsa !== undefined) {
    // The signature's parameter set must be the issuer key's: the verifier checks both.
    return mlDsaVerifier !== undefined && child.certificate.issuer === candidate.certificate.subject && verifiesMlDsa(candidate, child, mlDsa, mlDsaVerifier);
  }
  try {
    return child.certificate.checkIssued(candidate.certificate) && child.certificate.verify(candidate.certificate.publicKey);
  } catch {
    return false;
  }
}

function verifiesMlDsa(candidate: Node, child: Node, name: NonNullable<ReturnType<typeof mlDsaNameOfOid>>, verifier: MlDsaVerifier): boolean {
  try {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
    const [tbs, , signatureValue] = readDerChildren(readWholeDerElement(child.der));
    const [issuerTbs] = readDerChildren(readWholeDerElement(candidate.der));
    if (issuerTbs === undefined) return false;
    // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, SPKI.
    const issuerFields = readDerChildren(issuerTbs);
    const spki = issuerFields[issuerFields[0]?.tag === 0xa0 ? 6 : 5];
    if (tbs === undefined || signatureValue === undefined || spki === undefined || signatureValue.value[0] !== 0) return false;
    return verifier(spki.encoded, tbs.encoded, signatureValue.value.subarray(1), name);
  } catch {
    return false;
  }
}

const parseNode = memoizedByDer((der): Node => ({ der, certificate: new X509Certificate(der), profile: inspectCertificate(der) }));

function toNode(der: Uint8Array): Node | undefined {
  try {
    return parseNode(der);
  } catch {
    return undefined;
  }
}

function subjectOf(node: Node): string {
  return oneLine(node.certificate.subject);
}

/** node:crypto writes names one attribute per line; a log detail is one line. */
function oneLine(name: string): string {
  return name.replace(/\n/g, ', ');
}
