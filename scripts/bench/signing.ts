import { constants, verify, X509Certificate } from 'node:crypto';
import { SignerError } from '../../src/errors.js';
import type { KeySource } from '../../src/keys/types.js';
import { signRequest } from '../../src/sigv4x509/index.js';
import type { SigningRequest } from '../../src/sigv4x509/index.js';
import type { Cleanup } from './cleanup.js';
import { measureAsyncRate, type RateBounds, type RateResult } from './rate.js';
import { REGION } from './world.js';

/** A CreateSession request as the CLI sends it (ARCHITECTURE.md, "Protocol facts"), to sign again and again. */
const CREATE_SESSION_REQUEST: SigningRequest = {
  method: 'POST',
  host: `rolesanywhere.${REGION}.amazonaws.com`,
  path: '/sessions',
  query: [
    ['profileArn', `arn:aws:rolesanywhere:${REGION}:111122223333:profile/00000000-0000-4000-8000-00000000be02`],
    ['roleArn', 'arn:aws:iam::111122223333:role/bench-role'],
    ['trustAnchorArn', `arn:aws:rolesanywhere:${REGION}:111122223333:trust-anchor/00000000-0000-4000-8000-00000000be01`],
  ],
  headers: { 'content-type': 'application/json' },
  body: '{"durationSeconds":3600}',
};

/** One full signRequest (canonical request, string to sign, key signature, Authorization). */
export function signCreateSession(signer: KeySource, certificate: Uint8Array, chain: readonly Uint8Array[], signingDate: Date): Promise<unknown> {
  return signRequest(CREATE_SESSION_REQUEST, { signer, certificate, chain, region: REGION, signingDate });
}

/**
 * Signs once and checks the signature against the certificate's public key before anything is
 * timed: a source that returns garbage quickly must not look fast. Returns the string to sign.
 */
export async function assertSignsVerifiably(source: KeySource, certificate: Uint8Array, chain: readonly Uint8Array[], signingDate: Date): Promise<Buffer> {
  const signed = await signRequest(CREATE_SESSION_REQUEST, { signer: source, certificate, chain, region: REGION, signingDate });
  const signatureHex = /Signature=([0-9a-f]+)$/.exec(signed.headers['authorization'] ?? '')?.[1];
  if (signatureHex === undefined) throw new SignerError('INTERNAL', `signRequest with ${source.description} produced no Signature=`);
  const stringToSign = Buffer.from(signed.stringToSign, 'utf8');
  if (!verifiesWithCertificate(certificate, stringToSign, Buffer.from(signatureHex, 'hex'), source.keyType)) {
    throw new SignerError('INTERNAL', `a signature from ${source.description} does not verify with its certificate`);
  }
  return stringToSign;
}

/** SHA-256 signature check: PKCS#1 v1.5 for RSA, DER ECDSA for EC (the SigV4-X509 encodings). */
export function verifiesWithCertificate(certificate: Uint8Array, message: Uint8Array, signature: Uint8Array, keyType: string): boolean {
  const key = new X509Certificate(certificate).publicKey;
  return keyType === 'RSA'
    ? verify('sha256', message, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
    : verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
}

/**
 * Opens a KeySource, checks one signature against the certificate, times signRequest one
 * signature after another (as the CLI and serve sign), and closes the source again.
 */
export async function measureKeySource(
  cleanup: Cleanup,
  open: () => Promise<KeySource>,
  certificate: Uint8Array,
  chain: readonly Uint8Array[],
  bounds: RateBounds,
): Promise<RateResult> {
  const source = await open();
  const close = cleanup.defer(`close ${source.description}`, () => source.close());
  try {
    const signingDate = new Date();
    await assertSignsVerifiably(source, certificate, chain, signingDate);
    return await measureAsyncRate(() => signCreateSession(source, certificate, chain, signingDate), bounds);
  } finally {
    await close();
  }
}
