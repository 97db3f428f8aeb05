import { createHash } from 'node:crypto';
import { CKM } from './constants.js';
import { SignerError } from '../../errors.js';
import type { KeyType, SignDigest } from '../types.js';

/**
 * How one signature is made on a token: which mechanism, over which bytes, and how the
 * token's output becomes wire encoding. Pure: the token's mechanism list comes in.
 */
export interface SignPlan {
  readonly mechanism: number;
  readonly mechanismName: string;
  /** What C_Sign receives. */
  readonly input: Buffer;
  /** CKM_ECDSA(_SHAxxx) returns raw r||s, which SigV4-X509 wants as DER. */
  readonly rawEcdsa: boolean;
}

const HASH_OF: Readonly<Record<SignDigest, string>> = { SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

// DER of DigestInfo { AlgorithmIdentifier { hash OID, NULL }, OCTET STRING <digest> } without the digest (RFC 8017 9.2 note 1).
const DIGEST_INFO_PREFIX: Readonly<Record<SignDigest, string>> = {
  SHA256: '3031300d060960864801650304020105000420',
  SHA384: '3041300d060960864801650304020205000430',
  SHA512: '3051300d060960864801650304020305000440',
};

const RSA_WITH_HASH: Readonly<Record<SignDigest, [number, string]>> = {
  SHA256: [CKM.SHA256_RSA_PKCS, 'CKM_SHA256_RSA_PKCS'],
  SHA384: [CKM.SHA384_RSA_PKCS, 'CKM_SHA384_RSA_PKCS'],
  SHA512: [CKM.SHA512_RSA_PKCS, 'CKM_SHA512_RSA_PKCS'],
};

const ECDSA_WITH_HASH: Readonly<Record<SignDigest, [number, string]>> = {
  SHA256: [CKM.ECDSA_SHA256, 'CKM_ECDSA_SHA256'],
  SHA384: [CKM.ECDSA_SHA384, 'CKM_ECDSA_SHA384'],
  SHA512: [CKM.ECDSA_SHA512, 'CKM_ECDSA_SHA512'],
};

export function digestInfo(digest: SignDigest, hash: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[digest], 'hex'), hash]);
}

/**
 * EC: CKM_ECDSA over a digest made here (SoftHSM and many cards lack CKM_ECDSA_SHA256), else
 * the token's CKM_ECDSA_SHAxxx. RSA: CKM_SHAxxx_RSA_PKCS, else CKM_RSA_PKCS over a DigestInfo
 * made here (some cards only do raw PKCS#1 v1.5). `mechanisms` undefined means the token
 * would not list them: try the widest-supported mechanism.
 */
export function planSignature(keyType: KeyType, digest: SignDigest, message: Uint8Array, mechanisms: ReadonlySet<number> | undefined, where: string, ecOrderBits?: number): SignPlan {
  const supports = (mechanism: number): boolean => mechanisms === undefined || mechanisms.has(mechanism);
  const hash = (): Buffer => createHash(HASH_OF[digest]).update(message).digest();
  if (keyType === 'EC') {
    if (supports(CKM.ECDSA)) return { mechanism: CKM.ECDSA, mechanismName: 'CKM_ECDSA', input: truncateForEcdsa(hash(), ecOrderBits), rawEcdsa: true };
    const [mechanism, mechanismName] = ECDSA_WITH_HASH[digest];
    if (supports(mechanism)) return { mechanism, mechanismName, input: Buffer.from(message), rawEcdsa: true };
    throw unsupported(where, `CKM_ECDSA or ${mechanismName}`);
  }
  if (keyType === 'RSA') {
    const [mechanism, mechanismName] = RSA_WITH_HASH[digest];
    // pkcs11js passes empty data as a NULL pointer, which modules refuse (SoftHSM:
    // CKR_ARGUMENTS_BAD); an empty message is therefore hashed here.
    const tokenHashes = mechanisms !== undefined && mechanisms.has(mechanism) && (message.length > 0 || !mechanisms.has(CKM.RSA_PKCS));
    if (tokenHashes) return { mechanism, mechanismName, input: Buffer.from(message), rawEcdsa: false };
    if (supports(CKM.RSA_PKCS)) return { mechanism: CKM.RSA_PKCS, mechanismName: 'CKM_RSA_PKCS', input: digestInfo(digest, hash()), rawEcdsa: false };
    throw unsupported(where, `${mechanismName} or CKM_RSA_PKCS`);
  }
  throw new SignerError('KEY_TYPE_UNSUPPORTED', `${where} is a ${keyType} key, which PKCS#11 signing here does not support: use an RSA or EC key`);
}

/**
 * ECDSA signs the leftmost bits of the hash, as many as the curve order has (FIPS 186-4
 * 6.4). Doing it here gives the same signature and spares tokens that refuse a longer input
 * (ykcs11: a SHA-384 digest on a P-256 key fails with CKR_DEVICE_ERROR).
 */
function truncateForEcdsa(hash: Buffer, orderBits: number | undefined): Buffer {
  if (orderBits === undefined || orderBits % 8 !== 0) return hash;
  return hash.subarray(0, Math.min(hash.length, orderBits / 8));
}

function unsupported(where: string, wanted: string): SignerError {
  return new SignerError('PKCS11_MECHANISM_UNSUPPORTED', `the token holding ${where} offers neither ${wanted}: this token cannot make the signatures IAM Roles Anywhere needs`);
}
