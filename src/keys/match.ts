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
 * Proves, before any network call, that the key source holds the private key the certificate
 * was issued for. Comparing public keys is not enough: a token can report one public key and
 * sign with another (a stale CKA_ID pairing, a replaced card), so a fresh challenge is also
 * signed and verified with the certificate's key. Either failure is CERT_KEY_MISMATCH; the
 * service would otherwise answer an opaque "Invalid signature".
 */
export async function assertKeyMatchesCertificate(
  source: KeySource,
  certificateDer: Uint8Array,
  keyDescription: string = source.description,
): Promise<void> {
  let certificateKey: KeyObject;
  try {
    certificateKey = new X509Certificate(certificateDer).publicKey;
  } catch (cause) {
    throw new SignerError('CERT_INVALID', 'the certificate is not a valid X.509 certificate: pass a PEM or DER certificate', { cause });
  }
  const mismatch = (cause?: unknown): SignerError => {
    const about = describeCertificate(certificateDer);
    const subject = about.subject === '' ? '(empty subject)' : about.subject;
    return new SignerError(
      'CERT_KEY_MISMATCH',
      `the private key ${keyDescription} does not match certificate ${subject} (serial ${about.serialNumberDecimal}): pass the certificate issued for this key`,
      cause === undefined ? undefined : { cause },
    );
  };

  if (!spkiOf(source.publicKey).equals(spkiOf(certificateKey))) throw mismatch();

  const challenge = Buffer.from(`roles-anywhere-signer key check ${randomBytes(16).toString('hex')}`, 'utf8');
  const signature = await source.sign(challenge, 'SHA256');
  let valid: boolean;
  try {
    valid = verifyChallenge(source.keyType, certificateKey, challenge, signature);
  } catch (cause) {
    throw mismatch(cause);
  }
  if (!valid) throw mismatch();
}

function verifyChallenge(keyType: KeySource['keyType'], key: KeyObject, challenge: Buffer, signature: Uint8Array): boolean {
  switch (keyType) {
    case 'RSA':
      return verify('sha256', challenge, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    case 'EC':
      return verify('sha256', challenge, { key, dsaEncoding: 'der' }, signature);
    case 'ML-DSA':
      // Pure ML-DSA signs the message itself: no separate digest.
      return verify(null, challenge, key, signature);
  }
}
