import type { KeyObject } from 'node:crypto';
import type { Session, SessionObject } from 'graphene-pk11';
import pkcs11js from 'pkcs11js';
import { SignerError } from '../../errors.js';
import type { KeyType } from '../types.js';
import { ecPublicKeyFromAttributes, rsaPublicKeyFromAttributes } from './public-key.js';
import { boolAttribute, findObjects, optionalAttribute, ulongAttribute, type TokenObject } from './token.js';

/** What the signer needs to know about a private key object on a token. */
export interface PrivateKeyInfo {
  readonly object: TokenObject;
  readonly keyType: KeyType;
  /** Rebuilt from the token's attributes; undefined when the token hides them. */
  readonly publicKey: KeyObject | undefined;
  /** CKA_ALWAYS_AUTHENTICATE: a context-specific login before every signature (YubiKey 9c). */
  readonly alwaysAuthenticate: boolean;
}

const KEY_TYPE_NAMES: Readonly<Record<number, string>> = {
  [pkcs11js.CKK_DSA]: 'DSA',
  [pkcs11js.CKK_DH]: 'DH',
  [pkcs11js.CKK_X9_42_DH]: 'X9.42 DH',
  [pkcs11js.CKK_GOSTR3410]: 'GOST R 34.10',
  // CKK_EC_EDWARDS and CKK_EC_MONTGOMERY (PKCS#11 3.0): pkcs11js does not export them.
  0x40: 'EdDSA (Ed25519/Ed448)',
  0x41: 'Montgomery (X25519/X448)',
};

/**
 * Reads the key's type, public half and authentication policy. Key types other than RSA and
 * EC fail here, naming the key, before any PIN is spent on signing.
 */
export function describePrivateKey(session: Session, object: TokenObject, uri: string): PrivateKeyInfo {
  const type = ulongAttribute(object.object, pkcs11js.CKA_KEY_TYPE);
  let keyType: KeyType;
  if (type === pkcs11js.CKK_RSA) keyType = 'RSA';
  else if (type === pkcs11js.CKK_EC) keyType = 'EC';
  else {
    const name = type === undefined ? 'unknown' : KEY_TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `the key ${uri} has key type ${name}; IAM Roles Anywhere signs with RSA or EC (ECDSA) keys: use one of those`);
  }
  return {
    object,
    keyType,
    publicKey: publicKeyOf(session, object, keyType),
    alwaysAuthenticate: boolAttribute(object.object, pkcs11js.CKA_ALWAYS_AUTHENTICATE),
  };
}

/**
 * RSA private keys carry modulus and exponent; EC private keys usually do not carry the point,
 * so the public key object with the same CKA_ID is read as well.
 */
function publicKeyOf(session: Session, key: TokenObject, keyType: KeyType): KeyObject | undefined {
  const candidates: TokenObject['object'][] = [key.object];
  if (key.id.length > 0) {
    try {
      candidates.push(...findObjects(session, 'public', { id: key.id }).map((o) => o.object));
    } catch {
      // no public objects to search; the certificate's key is used instead
    }
  }
  for (const object of candidates) {
    const publicKey = publicKeyFromObject(object, keyType);
    if (publicKey !== undefined) return publicKey;
  }
  return undefined;
}

/**
 * The public key an object's attributes give (RSA modulus and exponent, EC params and point),
 * or undefined when it lacks them or they make no key (an unnamed curve).
 */
export function publicKeyFromObject(object: SessionObject, keyType: KeyType): KeyObject | undefined {
  const present = (type: number): Buffer | undefined => {
    const value = optionalAttribute(object, type);
    return value !== undefined && value.length > 0 ? value : undefined;
  };
  try {
    if (keyType === 'RSA') {
      const modulus = present(pkcs11js.CKA_MODULUS);
      const exponent = present(pkcs11js.CKA_PUBLIC_EXPONENT);
      return modulus === undefined || exponent === undefined ? undefined : rsaPublicKeyFromAttributes(modulus, exponent);
    }
    const params = present(pkcs11js.CKA_EC_PARAMS);
    const point = present(pkcs11js.CKA_EC_POINT);
    return params === undefined || point === undefined ? undefined : ecPublicKeyFromAttributes(params, point);
  } catch {
    return undefined;
  }
}
