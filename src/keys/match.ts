import { constants, createPublicKey, randomBytes, verify, KeyObject } from 'node:crypto';
import { describeCertificate } from '../certs/load.js';
import { certificateSpki, splitSpki } from '../certs/spki.js';
import { SignerError } from '../errors.js';
import { loadMlDsaEngine } from './mldsa/engine.js';
import { mlDsaParametersOfOid } from '../certs/mldsa-parameters.js';
import type { KeySource, SourcePublicKey } from './types.js';

/**
 * True when the certificate certifies exactly this public key (SubjectPublicKeyInfo bytes).
 * Compared as DER, so it works for key types node:crypto cannot load (ML-DSA on Node.js 20).
 */
export function publicKeyMatchesCertificate(publicKey: KeyObject | SourcePublicKey, certificateDer: Uint8Array): boolean {
  const certificateKey = certificateSpki(certificateDer);
  return certificateKey !== undefined && Buffer.from(spkiOf(publicKey)).equals(certificateKey);
}

function spkiOf(key: KeyObject | SourcePublicKey): Uint8Array {
  return key instanceof KeyObject ? key.export({ type: 'spki', format: 'der' }) : key.spki;
}

/**
 * Checks that the certificate certifies the key source's public key (SubjectPublicKeyInfo
 * bytes). Costs no signature, so it runs when a key is opened, before any PIN-per-signature
 * key or touch policy is exercised.
 */
export function assertPublicKeyMatchesCertificate(source: Pick<KeySource, 'publicKey' | 'description'>, certificateDer: Uint8Array): void {
  if (!Buffer.from(spkiOf(source.publicKey)).equals(certificateSpkiOf(certificateDer))) throw mismatchError(source.description, certificateDer);
}

/**
 * Checks a signature the key source made against the certificate's public key. Comparing
 * public keys is not enough: a token can report one public key and sign with another (a stale
 * CKA_ID pairing, a replaced card). The caller verifies the real request signature this way
 * before sending it, so a mismatch is CERT_KEY_MISMATCH here instead of the service's opaque
 * "Invalid signature", and no extra signature (PIN entry, touch) is spent on a test string.
 */
export async function assertSignatureMatchesCertificate(
  source: Pick<KeySource, 'keyType' | 'description'>,
  certificateDer: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<void> {
  let valid: boolean;
  try {
    valid = await verifyWith(source.keyType, certificateSpkiOf(certificateDer), message, signature);
  } catch (cause) {
    if (cause instanceof SignerError && cause.code === 'CERT_INVALID') throw cause;
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
  await assertSignatureMatchesCertificate(described, certificateDer, challenge, await source.sign(challenge, 'SHA256'));
}

function certificateSpkiOf(certificateDer: Uint8Array): Buffer {
  const spki = certificateSpki(certificateDer);
  if (spki === undefined) throw new SignerError('CERT_INVALID', 'the certificate is not a valid X.509 certificate: pass a PEM or DER certificate');
  return Buffer.from(spki);
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

async function verifyWith(keyType: KeySource['keyType'], spki: Buffer, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  switch (keyType) {
    case 'RSA':
      return verify('sha256', message, { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PADDING }, signature);
    case 'EC':
      return verify('sha256', message, { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), dsaEncoding: 'der' }, signature);
    case 'ML-DSA': {
      // Pure ML-DSA signs the message itself: no separate digest.
      const parts = splitSpki(spki);
      const parameters = parts === undefined ? undefined : mlDsaParametersOfOid(parts.oid);
      if (parts === undefined || parameters === undefined) return false;
      return (await loadMlDsaEngine(parameters.name)).verify(signature, message, parts.keyBits);
    }
  }
}
