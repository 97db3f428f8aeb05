import { X509Certificate } from 'node:crypto';
import { SignerError } from '../errors.js';
import { MAX_CHAIN_CERTIFICATES } from '../service-limits.js';
import { keyTypeOfPublicKeyAlgorithm } from './key-type.js';
import { certificateSignatureOid } from './spki.js';

export { MAX_CHAIN_CERTIFICATES };

interface Candidate {
  readonly der: Uint8Array;
  readonly certificate: X509Certificate;
  readonly selfSigned: boolean;
}

/**
 * The certificates of `candidates` that really issue the leaf, nearest issuer first, for
 * X-Amz-X509-Chain. Each step needs the issuer's name (and key identifiers, when present) to
 * match AND its public key to verify the child's signature, so a certificate that merely shares
 * a name - or an unrelated one the token also holds - is never sent (the reference helper sends
 * those). The leaf itself is never part of the result.
 *
 * Self-signed roots are left out: the service validates against the trust anchor it already
 * holds, so sending the root only spends one of the five places and header bytes. The walk
 * stops at the first root, at a certificate whose issuer is not among the candidates, or after
 * five certificates - the five nearest the leaf are the only ones a path to any anchor can use
 * within the service's limit. When two candidates can issue the same certificate (a CA
 * cross-signed by an older root next to its self-signed form), the one that is not self-signed
 * is preferred, so the path reaches whichever of the two roots the trust anchor holds.
 *
 * Unparseable candidates are skipped (a token may hold odd objects); an unparseable leaf is an
 * error. Pure: no I/O, no clock (validity periods are the rules' business, not the chain's).
 */
export function assembleChain(leafDer: Uint8Array, candidates: readonly Uint8Array[]): Uint8Array[] {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafDer);
  } catch (cause) {
    throw new SignerError('CERT_INVALID', 'the leaf certificate is not a valid X.509 certificate: pass a PEM or DER certificate', { cause });
  }
  const pool = candidatePool(leafDer, candidates);
  const used = new Set<Candidate>();
  const chain: Uint8Array[] = [];
  let current = leaf;
  if (isSelfSigned(current)) return chain;
  while (chain.length < MAX_CHAIN_CERTIFICATES) {
    const issuers = pool.filter((candidate) => !used.has(candidate) && issues(candidate.certificate, current));
    const issuer = issuers.find((candidate) => !candidate.selfSigned) ?? issuers[0];
    if (issuer === undefined || issuer.selfSigned) break;
    chain.push(issuer.der);
    used.add(issuer);
    current = issuer.certificate;
  }
  return chain;
}

function candidatePool(leafDer: Uint8Array, candidates: readonly Uint8Array[]): Candidate[] {
  const seen = new Set<string>([Buffer.from(leafDer).toString('base64')]);
  const pool: Candidate[] = [];
  for (const der of candidates) {
    const key = Buffer.from(der).toString('base64');
    if (seen.has(key)) continue;
    seen.add(key);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(der);
    } catch {
      continue;
    }
    pool.push({ der, certificate, selfSigned: isSelfSigned(certificate) });
  }
  return pool;
}

/**
 * checkIssued compares names as OpenSSL does (canonical form), the key identifiers, and the
 * issuer's keyUsage; verify checks the signature. Both, or it is not the issuer.
 */
function issues(issuer: X509Certificate, subject: X509Certificate): boolean {
  const signatureOid = certificateSignatureOid(subject.raw);
  if (signatureOid !== undefined && keyTypeOfPublicKeyAlgorithm(signatureOid) === 'ML-DSA') {
    // OpenSSL before 3.5 can neither match nor verify an ML-DSA issuer. The name must match and
    // the issuer be a CA; the signature is the service's (and the emulator's) to verify.
    return subject.issuer === issuer.subject && issuer.ca;
  }
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    // e.g. a signature algorithm this OpenSSL does not know: it cannot be shown to be the issuer
    return false;
  }
}

function isSelfSigned(certificate: X509Certificate): boolean {
  return issues(certificate, certificate);
}
