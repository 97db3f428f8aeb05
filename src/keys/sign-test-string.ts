import { createHash, KeyObject, type JsonWebKey } from 'node:crypto';
import { SignerError } from '../errors.js';
import type { KeySource, SignDigest, SourcePublicKey } from './types.js';

export type SignStringFormat = 'json' | 'text' | 'bin';

export interface SignTestStringOptions {
  /** Default json, as the reference helper's code has it (its README says text). */
  readonly format?: SignStringFormat;
  readonly digest?: SignDigest;
}

/** Version byte of the reference helper's fixed test string (SIGN_STRING_TEST_VERSION). */
export const SIGN_STRING_TEST_VERSION = 1;
const TEST_STRING_PREFIX = 'AWS Roles Anywhere Credential Helper Signing Test';
const KEY_BINDING_LABEL = 'IAM RA';

const FORMATS: ReadonlySet<string> = new Set<SignStringFormat>(['json', 'text', 'bin']);
const DIGESTS: ReadonlySet<string> = new Set<SignDigest>(['SHA256', 'SHA384', 'SHA512']);

/** Coordinate sizes in bytes, for the uncompressed point 04||X||Y. */
const EC_COORDINATE_BYTES: Readonly<Record<string, number>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, number>, { 'P-256': 32, 'P-384': 48, 'P-521': 66, secp256k1: 32 }),
);

/**
 * What the reference helper's `sign-string` writes to stdout, byte for byte: the signature of
 * its fixed test string, as lower-case hex (text), a JSON string of that hex (json), or the raw
 * signature (bin); no trailing newline in any format.
 */
export async function signTestString(
  source: Pick<KeySource, 'sign' | 'publicKey' | 'keyType'>,
  options: SignTestStringOptions = {},
): Promise<Uint8Array> {
  const format = options.format ?? 'json';
  if (source.keyType === 'ML-DSA' && options.digest !== undefined) {
    throw new SignerError('USAGE', `--digest does not apply to an ML-DSA key: pure ML-DSA signs the test string itself, with no separate digest; leave --digest out`);
  }
  const digest = options.digest ?? 'SHA256';
  if (!FORMATS.has(format)) throw new SignerError('USAGE', `--format ${String(format)} is not one of json, text, bin`);
  if (!DIGESTS.has(digest)) throw new SignerError('USAGE', `--digest ${String(digest)} is not one of SHA256, SHA384, SHA512`);
  const signature = await source.sign(signingTestMessage(source.publicKey), digest);
  if (format === 'bin') return signature;
  const hex = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('hex');
  return Buffer.from(format === 'json' ? `"${hex}"` : hex, 'latin1');
}

/**
 * The reference helper's fixed string:
 * "AWS Roles Anywhere Credential Helper Signing Test" || "1" || SHA256("IAM RA" || public key),
 * the digest as raw bytes; the public key is PKCS#1 RSAPublicKey DER for RSA and the
 * uncompressed point 04||X||Y for EC. Other key types (ML-DSA) get no digest, as there.
 */
export function signingTestMessage(publicKey: KeyObject | SourcePublicKey): Uint8Array {
  const prefix = Buffer.from(`${TEST_STRING_PREFIX}${SIGN_STRING_TEST_VERSION}`, 'latin1');
  // A SourcePublicKey without a KeyObject is a key node:crypto cannot hold: ML-DSA, no digest.
  const keyObject = publicKey instanceof KeyObject ? publicKey : publicKey.keyObject;
  const keyBytes = keyObject === undefined ? undefined : publicKeyBytes(keyObject);
  if (keyBytes === undefined) return prefix;
  const keyDigest = createHash('sha256').update(KEY_BINDING_LABEL, 'latin1').update(keyBytes).digest();
  return Buffer.concat([prefix, keyDigest]);
}

function publicKeyBytes(publicKey: KeyObject): Uint8Array | undefined {
  switch (publicKey.asymmetricKeyType) {
    case 'rsa':
      return publicKey.export({ format: 'der', type: 'pkcs1' });
    case 'ec':
      return uncompressedPoint(publicKey);
    default:
      return undefined;
  }
}

function uncompressedPoint(publicKey: KeyObject): Uint8Array {
  const unsupported = (cause?: unknown): SignerError =>
    new SignerError(
      'KEY_TYPE_UNSUPPORTED',
      `EC curve ${publicKey.asymmetricKeyDetails?.namedCurve ?? 'unknown'} is not supported: use P-256 or P-384`,
      { cause },
    );
  let jwk: JsonWebKey;
  try {
    // JWK export fails for curves JOSE has no name for (P-192, brainpool...).
    jwk = publicKey.export({ format: 'jwk' });
  } catch (cause) {
    throw unsupported(cause);
  }
  const size = jwk.crv === undefined ? undefined : EC_COORDINATE_BYTES[jwk.crv];
  if (size === undefined || jwk.x === undefined || jwk.y === undefined) throw unsupported();
  const point = Buffer.alloc(1 + 2 * size);
  point[0] = 0x04;
  // JWK coordinates are big-endian; right-align them in case an encoder dropped leading zeros.
  const x = Buffer.from(jwk.x, 'base64url');
  const y = Buffer.from(jwk.y, 'base64url');
  x.copy(point, 1 + size - x.length);
  y.copy(point, 1 + 2 * size - y.length);
  return point;
}
