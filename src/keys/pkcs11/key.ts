import type { KeyObject } from 'node:crypto';
import type { Session } from 'graphene-pk11';
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
    try {
      if (keyType === 'RSA') {
        const modulus = optionalAttribute(object, pkcs11js.CKA_MODULUS);
        const exponent = optionalAttribute(object, pkcs11js.CKA_PUBLIC_EXPONENT);
        if (modulus !== undefined && modulus.length > 0 && exponent !== undefined && exponent.length > 0) return rsaPublicKeyFromAttributes(modulus, exponent);
      } else {
        const params = optionalAttribute(object, pkcs11js.CKA_EC_PARAMS);
        const point = optionalAttribute(object, pkcs11js.CKA_EC_POINT);
        if (params !== undefined && params.length > 0 && point !== undefined && point.length > 0) return ecPublicKeyFromAttributes(params, point);
      }
    } catch {
      // attributes a key cannot be built from (an unnamed curve): try the next object
    }
  }
  return undefined;
}
