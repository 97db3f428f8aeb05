import type { KeyObject } from 'node:crypto';
import { SignerError } from '../../errors.js';

/** P-256 and P-384, the curves the service signs with, by OpenSSL's names. */
const ACCEPTED_CURVES: ReadonlySet<string> = new Set(['prime256v1', 'secp384r1']);

const CURVE_DISPLAY_NAMES: ReadonlyMap<string, string> = new Map([
  ['secp521r1', 'P-521'],
  ['secp224r1', 'P-224'],
  ['prime192v1', 'P-192'],
]);

const KEY_TYPE_DISPLAY_NAMES: ReadonlyMap<string, string> = new Map([
  ['ed25519', 'Ed25519'],
  ['ed448', 'Ed448'],
  ['x25519', 'X25519'],
  ['x448', 'X448'],
  ['dsa', 'DSA'],
  ['dh', 'DH'],
]);

/**
 * The SigV4-X509 key family of a software key, or KEY_TYPE_UNSUPPORTED naming what it is.
 * RSA-PSS-restricted keys are refused: they cannot make the PKCS#1 v1.5 signatures the
 * service verifies.
 */
export function signingKeyTypeOf(key: KeyObject, description: string): 'RSA' | 'EC' {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RSA';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    if (ACCEPTED_CURVES.has(curve)) return 'EC';
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `the private key ${description} is an EC key on curve ${CURVE_DISPLAY_NAMES.get(curve) ?? curve}: IAM Roles Anywhere accepts P-256 and P-384; use a key on one of those curves`);
  }
  if (type === 'rsa-pss') {
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `the private key ${description} is an RSA-PSS key: IAM Roles Anywhere verifies PKCS#1 v1.5 signatures; use a plain RSA (rsaEncryption) key`);
  }
  const name = type === undefined ? 'unknown' : KEY_TYPE_DISPLAY_NAMES.get(type) ?? type;
  throw new SignerError('KEY_TYPE_UNSUPPORTED', `the private key ${description} is of type ${name}: IAM Roles Anywhere accepts RSA, EC (P-256, P-384) and ML-DSA (44, 65, 87) keys`);
}
