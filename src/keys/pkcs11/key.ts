import type { KeyObject } from 'node:crypto';
import { SignerError } from '../../errors.js';
import type { KeyType } from '../types.js';
import { CKA, CKK } from './constants.js';
import { ecPublicKeyFromAttributes, rsaPublicKeyFromAttributes } from './public-key.js';
import { boolValue, findObjects, readAttributes, ulongValue, type Session, type TokenObject } from './token.js';

/** What the signer needs to know about a private key object on a token. */
export interface PrivateKeyInfo {
  readonly object: TokenObject;
  readonly keyType: KeyType;
  /** Rebuilt from the token's attributes; undefined when the token hides them or it was not needed. */
  readonly publicKey: KeyObject | undefined;
  /** CKA_EC_PARAMS of an EC key (the named curve), to check against a certificate's. */
  readonly ecParams: Buffer | undefined;
  /** CKA_ALWAYS_AUTHENTICATE: a context-specific login before every signature (YubiKey 9c). */
  readonly alwaysAuthenticate: boolean;
}

const KEY_TYPE_NAMES: Readonly<Record<number, string>> = {
  [CKK.DSA]: 'DSA',
  [CKK.DH]: 'DH',
  [CKK.X9_42_DH]: 'X9.42 DH',
  [CKK.GOSTR3410]: 'GOST R 34.10',
  [CKK.EC_EDWARDS]: 'EdDSA (Ed25519/Ed448)',
  [CKK.EC_MONTGOMERY]: 'Montgomery (X25519/X448)',
};

/**
 * What to read with each private key in its one template: the key type, the PIN policy and,
 * when the key type to expect is known, that type's public attributes (an RSA private key
 * carries modulus and exponent; an EC private key its curve, rarely its point).
 */
export function privateKeyAttributes(expected: KeyType | undefined): number[] {
  const common = [CKA.KEY_TYPE, CKA.ALWAYS_AUTHENTICATE];
  if (expected === 'RSA') return [...common, CKA.MODULUS, CKA.PUBLIC_EXPONENT];
  if (expected === 'EC') return [...common, CKA.EC_PARAMS];
  return common;
}

/**
 * Reads the key's type, public half and authentication policy from the attributes read with
 * it. Key types other than RSA and EC fail here, naming the key, before any PIN is spent on
 * signing. `needPublicKey`: without a certificate to stand in, the public half is looked for
 * on the key, then on the public key object with the same CKA_ID.
 */
export function describePrivateKey(session: Session, object: TokenObject, uri: string, needPublicKey: boolean): PrivateKeyInfo {
  const type = ulongValue(object.attributes.get(CKA.KEY_TYPE));
  let keyType: KeyType;
  if (type === CKK.RSA) keyType = 'RSA';
  else if (type === CKK.EC) keyType = 'EC';
  else {
    const name = type === undefined ? 'unknown' : KEY_TYPE_NAMES[type] ?? `0x${type.toString(16)}`;
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `the key ${uri} has key type ${name}; IAM Roles Anywhere signs with RSA or EC (ECDSA) keys: use one of those`);
  }
  const alreadyRead = publicKeyFromAttributes(object.attributes, keyType);
  return {
    object,
    keyType,
    publicKey: alreadyRead ?? (needPublicKey ? publicKeyOf(session, object, keyType) : undefined),
    ecParams: keyType === 'EC' ? object.attributes.get(CKA.EC_PARAMS) : undefined,
    alwaysAuthenticate: boolValue(object.attributes.get(CKA.ALWAYS_AUTHENTICATE)),
  };
}

const PUBLIC_ATTRIBUTES: Readonly<Record<'RSA' | 'EC', number[]>> = {
  RSA: [CKA.MODULUS, CKA.PUBLIC_EXPONENT],
  EC: [CKA.EC_PARAMS, CKA.EC_POINT],
};

/**
 * RSA private keys carry modulus and exponent; EC private keys usually do not carry the point,
 * so the public key object with the same CKA_ID is read as well.
 */
function publicKeyOf(session: Session, key: TokenObject, keyType: 'RSA' | 'EC'): KeyObject | undefined {
  const own = publicKeyFromAttributes(readAttributes(session, key.handle, PUBLIC_ATTRIBUTES[keyType]), keyType);
  if (own !== undefined || key.id.length === 0) return own;
  try {
    for (const object of findObjects(session, 'public', { id: key.id }, PUBLIC_ATTRIBUTES[keyType])) {
      const publicKey = publicKeyFromAttributes(object.attributes, keyType);
      if (publicKey !== undefined) return publicKey;
    }
  } catch {
    // no public objects to search; the certificate's key is used instead
  }
  return undefined;
}

/**
 * The public key some read attributes give (RSA modulus and exponent, EC params and point),
 * or undefined when they lack them or they make no key (an unnamed curve).
 */
export function publicKeyFromAttributes(attributes: ReadonlyMap<number, Buffer | undefined>, keyType: KeyType): KeyObject | undefined {
  const present = (type: number): Buffer | undefined => {
    const value = attributes.get(type);
    return value !== undefined && value.length > 0 ? value : undefined;
  };
  try {
    if (keyType === 'RSA') {
      const modulus = present(CKA.MODULUS);
      const exponent = present(CKA.PUBLIC_EXPONENT);
      return modulus === undefined || exponent === undefined ? undefined : rsaPublicKeyFromAttributes(modulus, exponent);
    }
    const params = present(CKA.EC_PARAMS);
    const point = present(CKA.EC_POINT);
    return params === undefined || point === undefined ? undefined : ecPublicKeyFromAttributes(params, point);
  } catch {
    return undefined;
  }
}
