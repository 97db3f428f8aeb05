import { constants, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { describeCertificate } from '../certs/load.js';
import { SignerError } from '../errors.js';
import type { KeySource } from './types.js';

/** True when the certificate certifies exactly this public key (SubjectPublicKeyInfo bytes). */
export function publicKeyMatchesCertificate(publicKey: KeyObject, certificateDer: Uint8Array): boolean {
  let certificateKey: KeyObject;
  try {
    certificateKey = new X509Certificate(certificateDer).publicKey;
  } catch {
    return false;
  }
  return spkiOf(publicKey).equals(spkiOf(certificateKey));
}

function spkiOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/**
 * Checks that the certificate certifies the key source's public key (SubjectPublicKeyInfo
 * bytes). Costs no signature, so it runs when a key is opened, before any PIN-per-signature
 * key or touch policy is exercised.
 */
export function assertPublicKeyMatchesCertificate(source: Pick<KeySource, 'publicKey' | 'description'>, certificateDer: Uint8Array): void {
  if (!spkiOf(source.publicKey).equals(spkiOf(certificateKeyOf(certificateDer)))) throw mismatchError(source.description, certificateDer);
}

/**
 * Checks a signature the key source made against the certificate's public key. Comparing
 * public keys is not enough: a token can report one public key and sign with another (a stale
 * CKA_ID pairing, a replaced card). The caller verifies the real request signature this way
 * before sending it, so a mismatch is CERT_KEY_MISMATCH here instead of the service's opaque
 * "Invalid signature", and no extra signature (PIN entry, touch) is spent on a test string.
 */
export function assertSignatureMatchesCertificate(
  source: Pick<KeySource, 'keyType' | 'description'>,
  certificateDer: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): void {
  let valid: boolean;
  try {
    valid = verifyWith(source.keyType, certificateKeyOf(certificateDer), message, signature);
  } catch (cause) {
    throw mismatchError(source.description, certificateDer, cause);
  }
  if (!valid) throw mismatchError(source.description, certificateDer);
}

/**
 * Both checks with a fresh challenge: for callers that have no real signature to verify
 * (the conformance suite, diagnostics).
 */
export async function assertKeyMatchesCertificate(
  source: KeySource,
  certificateDer: Uint8Array,
  keyDescription: string = source.description,
): Promise<void> {
  const described = { keyType: source.keyType, publicKey: source.publicKey, description: keyDescription };
  assertPublicKeyMatchesCertificate(described, certificateDer);
  const challenge = Buffer.from(`roles-anywhere-signer key check ${randomBytes(16).toString('hex')}`, 'utf8');
  assertSignatureMatchesCertificate(described, certificateDer, challenge, await source.sign(challenge, 'SHA256'));
}

function certificateKeyOf(certificateDer: Uint8Array): KeyObject {
  try {
    return new X509Certificate(certificateDer).publicKey;
  } catch (cause) {
    throw new SignerError('CERT_INVALID', 'the certificate is not a valid X.509 certificate: pass a PEM or DER certificate', { cause });
  }
}

function mismatchError(keyDescription: string, certificateDer: Uint8Array, cause?: unknown): SignerError {
  const about = describeCertificate(certificateDer);
  const subject = about.subject === '' ? '(empty subject)' : about.subject;
  return new SignerError(
    'CERT_KEY_MISMATCH',
    `the private key ${keyDescription} does not match certificate ${subject} (serial ${about.serialNumberDecimal}): pass the certificate issued for this key`,
    cause === undefined ? undefined : { cause },
  );
}

function verifyWith(keyType: KeySource['keyType'], key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  switch (keyType) {
    case 'RSA':
      return verify('sha256', message, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    case 'EC':
      return verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
    case 'ML-DSA':
      // Pure ML-DSA signs the message itself: no separate digest.
      return verify(null, message, key, signature);
  }
}
