import { createPublicKey, type KeyObject } from 'node:crypto';
import { SignerError } from '../../errors.js';
import type { KeyType } from '../types.js';
import { TPMA_OBJECT, TPM_ALG, TPM_ECC_CURVE } from './constants.js';
import { TpmReader, TpmWriter, type ReaderContext } from './marshal.js';

/**
 * TPMT_PUBLIC (Part 2, 12.2.4) for the two key types that can sign for IAM Roles Anywhere:
 * what a key is, what it may do, and its public half as a Node KeyObject.
 */
export type TpmPublicArea = TpmRsaPublicArea | TpmEccPublicArea;

interface CommonPublicArea {
  readonly nameAlg: number;
  readonly objectAttributes: number;
  readonly authPolicy: Buffer;
  /** Symmetric algorithm of a storage key; TPM_ALG_NULL for signing keys. */
  readonly symmetric: { readonly algorithm: number; readonly keyBits?: number; readonly mode?: number };
  /** The key's own signing scheme; TPM_ALG_NULL lets each TPM2_Sign pick one. */
  readonly scheme: { readonly scheme: number; readonly hashAlg?: number };
}

export interface TpmRsaPublicArea extends CommonPublicArea {
  readonly type: typeof TPM_ALG.RSA;
  readonly keyBits: number;
  /** 0 means the default 65537. */
  readonly exponent: number;
  readonly modulus: Buffer;
}

export interface TpmEccPublicArea extends CommonPublicArea {
  readonly type: typeof TPM_ALG.ECC;
  readonly curveId: number;
  readonly kdf: { readonly scheme: number; readonly hashAlg?: number };
  readonly x: Buffer;
  readonly y: Buffer;
}

/** Curves Node can verify with, by TPM curve id; the size is the field size in bytes. */
export const ECC_CURVES: ReadonlyMap<number, { readonly jwkName: string; readonly size: number }> = new Map([
  [TPM_ECC_CURVE.NIST_P256, { jwkName: 'P-256', size: 32 }],
  [TPM_ECC_CURVE.NIST_P384, { jwkName: 'P-384', size: 48 }],
  [TPM_ECC_CURVE.NIST_P521, { jwkName: 'P-521', size: 66 }],
]);

/** Parses a TPMT_PUBLIC; `reader` must be positioned at its first byte. */
export function readPublicArea(reader: TpmReader): TpmPublicArea {
  const type = reader.u16();
  const nameAlg = reader.u16();
  const objectAttributes = reader.u32();
  const authPolicy = reader.sized();
  if (type === TPM_ALG.RSA) {
    const symmetric = readSymmetric(reader);
    const scheme = readScheme(reader);
    const keyBits = reader.u16();
    const exponent = reader.u32();
    const modulus = reader.sized();
    return { type, nameAlg, objectAttributes, authPolicy, symmetric, scheme, keyBits, exponent, modulus };
  }
  if (type === TPM_ALG.ECC) {
    const symmetric = readSymmetric(reader);
    const scheme = readScheme(reader);
    const curveId = reader.u16();
    const kdf = readScheme(reader);
    const x = reader.sized();
    const y = reader.sized();
    return { type, nameAlg, objectAttributes, authPolicy, symmetric, scheme, curveId, kdf, x, y };
  }
  throw new SignerError('KEY_TYPE_UNSUPPORTED', `the TPM object is of type 0x${type.toString(16)} (${typeName(type)}), not an RSA or ECC key: only RSA and ECC keys can sign`);
}

/** Parses the contents of a TPM2B_PUBLIC: exactly one TPMT_PUBLIC, nothing after it. */
export function parsePublicArea(bytes: Uint8Array, context: ReaderContext): TpmPublicArea {
  const reader = new TpmReader(bytes, context);
  const area = readPublicArea(reader);
  reader.end();
  return area;
}

function readSymmetric(reader: TpmReader): CommonPublicArea['symmetric'] {
  const algorithm = reader.u16();
  if (algorithm === TPM_ALG.NULL) return { algorithm };
  return { algorithm, keyBits: reader.u16(), mode: reader.u16() };
}

/**
 * TPMT_RSA_SCHEME, TPMT_ECC_SCHEME and TPMT_KDF_SCHEME share this shape: a selector and, for
 * every scheme but NULL and RSAES, a hash algorithm. ECDAA adds a count we do not use.
 */
function readScheme(reader: TpmReader): { scheme: number; hashAlg?: number } {
  const scheme = reader.u16();
  if (scheme === TPM_ALG.NULL || scheme === TPM_ALG.RSAES) return { scheme };
  const hashAlg = reader.u16();
  if (scheme === TPM_ALG.ECDAA) reader.u16();
  return { scheme, hashAlg };
}

export function writePublicArea(writer: TpmWriter, area: TpmPublicArea): void {
  writer.u16(area.type).u16(area.nameAlg).u32(area.objectAttributes).sized(area.authPolicy);
  writer.u16(area.symmetric.algorithm);
  if (area.symmetric.algorithm !== TPM_ALG.NULL) writer.u16(area.symmetric.keyBits ?? 0).u16(area.symmetric.mode ?? TPM_ALG.NULL);
  writeScheme(writer, area.scheme);
  if (area.type === TPM_ALG.RSA) {
    writer.u16(area.keyBits).u32(area.exponent).sized(area.modulus);
  } else {
    writer.u16(area.curveId);
    writeScheme(writer, area.kdf);
    writer.sized(area.x).sized(area.y);
  }
}

function writeScheme(writer: TpmWriter, scheme: { scheme: number; hashAlg?: number }): void {
  writer.u16(scheme.scheme);
  if (scheme.scheme !== TPM_ALG.NULL && scheme.scheme !== TPM_ALG.RSAES) writer.u16(scheme.hashAlg ?? TPM_ALG.NULL);
}

export function keyTypeOf(area: TpmPublicArea): KeyType {
  return area.type === TPM_ALG.RSA ? 'RSA' : 'EC';
}

/** The public key as Node sees it, for certificate matching and signature checks. */
export function publicKeyOf(area: TpmPublicArea, description: string): KeyObject {
  if (area.type === TPM_ALG.RSA) {
    const exponent = area.exponent === 0 ? 65537 : area.exponent;
    const e = Buffer.alloc(4);
    e.writeUInt32BE(exponent);
    const firstNonZero = e.findIndex((byte) => byte !== 0);
    return createPublicKey({
      key: { kty: 'RSA', n: area.modulus.toString('base64url'), e: e.subarray(firstNonZero).toString('base64url') },
      format: 'jwk',
    });
  }
  const curve = ECC_CURVES.get(area.curveId);
  if (curve === undefined) {
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `${description} is an ECC key on TPM curve 0x${area.curveId.toString(16).padStart(4, '0')}, which IAM Roles Anywhere cannot use: use NIST P-256 or P-384`);
  }
  if (area.x.length > curve.size || area.y.length > curve.size) {
    throw new SignerError('TPM_KEYFILE_INVALID', `${description} has an ECC point too long for ${curve.jwkName}`);
  }
  // The TPM may drop leading zero bytes of a coordinate; JWK wants the full field size.
  const pad = (value: Buffer): string => Buffer.concat([Buffer.alloc(curve.size - value.length), value]).toString('base64url');
  try {
    return createPublicKey({ key: { kty: 'EC', crv: curve.jwkName, x: pad(area.x), y: pad(area.y) }, format: 'jwk' });
  } catch (cause) {
    throw new SignerError('TPM_KEYFILE_INVALID', `${description} holds an ECC point that is not on ${curve.jwkName}`, { cause });
  }
}

/**
 * Refuses keys that cannot sign a host-computed digest with a password: decrypt-only keys,
 * restricted (attestation) keys that only sign TPM-made data, and policy-only keys.
 */
export function assertUsableSigningKey(area: TpmPublicArea, description: string): void {
  const attributes = area.objectAttributes;
  if ((attributes & TPMA_OBJECT.sign) === 0) {
    throw new SignerError('KEY_TYPE_UNSUPPORTED', `${description} is not a signing key (its TPM attributes lack "sign"): create the key with the sign attribute`);
  }
  if ((attributes & TPMA_OBJECT.restricted) !== 0) {
    throw new SignerError('NOT_SUPPORTED', `${description} is a restricted signing key, which only signs data the TPM produced itself: use an unrestricted signing key`);
  }
  if ((attributes & TPMA_OBJECT.userWithAuth) === 0) {
    throw new SignerError('NOT_SUPPORTED', `${description} can only be used with a policy session (userWithAuth is clear), which is not supported: create the key with userWithAuth`);
  }
}

function typeName(type: number): string {
  if (type === TPM_ALG.KEYEDHASH) return 'KEYEDHASH: an HMAC key or sealed data';
  if (type === TPM_ALG.SYMCIPHER) return 'SYMCIPHER: a symmetric key';
  return 'unknown';
}
