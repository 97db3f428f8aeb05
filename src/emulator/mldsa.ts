/**
 * ML-DSA for the emulator's side only: signing the test PKI's certificates and verifying
 * requests and certificate signatures as the service would. Written apart from the signer's
 * src/keys/mldsa on purpose, so a bug there cannot hide behind the same bug here: its own OID
 * table, its own key encoding, and node:crypto for verification where the running Node has
 * ML-DSA (feature-detected per key), else @noble/post-quantum, loaded on first use.
 */
import { createPublicKey, randomBytes, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo, AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { PrivateKey, PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { encodePem } from '../certs/pem.js';
import { SignerError } from '../errors.js';

export type MlDsaName = 'ML-DSA-44' | 'ML-DSA-65' | 'ML-DSA-87';

/** NIST CSOR sigAlgs arcs 17, 18, 19 (FIPS 204); RFC 9881 puts them, without parameters, in SPKI and signatures. */
const OIDS: Readonly<Record<MlDsaName, string>> = Object.freeze({
  'ML-DSA-44': '2.16.840.1.101.3.4.3.17',
  'ML-DSA-65': '2.16.840.1.101.3.4.3.18',
  'ML-DSA-87': '2.16.840.1.101.3.4.3.19',
});

export function mlDsaOid(name: MlDsaName): string {
  return OIDS[name];
}

export function mlDsaNameOfOid(oid: string): MlDsaName | undefined {
  return (Object.keys(OIDS) as MlDsaName[]).find((name) => OIDS[name] === oid);
}

export function isMlDsaName(value: string): value is MlDsaName {
  return Object.hasOwn(OIDS, value);
}

type Noble = typeof import('@noble/post-quantum/ml-dsa.js');

async function nobleFor(name: MlDsaName): Promise<Noble['ml_dsa44']> {
  const noble = await import('@noble/post-quantum/ml-dsa.js');
  return name === 'ML-DSA-44' ? noble.ml_dsa44 : name === 'ML-DSA-65' ? noble.ml_dsa65 : noble.ml_dsa87;
}

export interface MlDsaKeyPair {
  readonly name: MlDsaName;
  /** PKCS#8 in the RFC 9881 seed form: privateKey = [0] IMPLICIT OCTET STRING (32 bytes). */
  readonly privateKeyPem: string;
  readonly spki: Uint8Array;
}

export async function generateMlDsaKeyPair(name: MlDsaName, seed: Uint8Array = randomBytes(32)): Promise<MlDsaKeyPair> {
  const dsa = await nobleFor(name);
  const { publicKey, secretKey } = dsa.keygen(seed);
  secretKey.fill(0);
  const algorithm = new AlgorithmIdentifier({ algorithm: OIDS[name] });
  const seedChoice = new Uint8Array(2 + seed.length);
  seedChoice.set([0x80, seed.length]);
  seedChoice.set(seed, 2);
  const pkcs8 = new Uint8Array(AsnConvert.serialize(new PrivateKeyInfo({ version: 0, privateKeyAlgorithm: algorithm, privateKey: new PrivateKey(seedChoice) })));
  const spki = new Uint8Array(AsnConvert.serialize(new SubjectPublicKeyInfo({ algorithm, subjectPublicKey: toArrayBuffer(publicKey) })));
  return { name, privateKeyPem: encodePem('PRIVATE KEY', pkcs8), spki };
}

/** Signs with a key this module wrote (seed form): pure ML-DSA, empty context, deterministic. */
export async function mlDsaSignWithPem(privateKeyPem: string, message: Uint8Array): Promise<{ readonly name: MlDsaName; readonly signature: Uint8Array }> {
  return withSeedKey(privateKeyPem, (name, dsa, secretKey) => ({ name, signature: dsa.sign(message, secretKey, { extraEntropy: false }) }));
}

/**
 * The parameter set and SubjectPublicKeyInfo of a seed-form ML-DSA PEM key (what `emulate
 * --init --key-type ml-dsa-*` writes), e.g. to check a CA key against its certificate; undefined
 * for any other key.
 */
export async function mlDsaPublicKeyOfPem(privateKeyPem: string): Promise<{ readonly name: MlDsaName; readonly spki: Uint8Array } | undefined> {
  try {
    return await withSeedKey(privateKeyPem, (name, dsa, secretKey) => ({
      name,
      spki: new Uint8Array(AsnConvert.serialize(new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: OIDS[name] }), subjectPublicKey: toArrayBuffer(dsa.getPublicKey(secretKey)) }))),
    }));
  } catch {
    return undefined;
  }
}

async function withSeedKey<T>(privateKeyPem: string, use: (name: MlDsaName, dsa: Noble['ml_dsa44'], secretKey: Uint8Array) => T): Promise<T> {
  const der = Buffer.from(privateKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  try {
    const info = AsnConvert.parse(der, PrivateKeyInfo);
    const name = mlDsaNameOfOid(info.privateKeyAlgorithm.algorithm);
    const choice = new Uint8Array(info.privateKey.buffer);
    if (name === undefined || choice.length !== 34 || choice[0] !== 0x80 || choice[1] !== 32) {
      throw new SignerError('KEY_INVALID', 'the PKI builder signs only with ML-DSA keys it made itself (PKCS#8 seed form)');
    }
    const dsa = await nobleFor(name);
    const { secretKey } = dsa.keygen(choice.subarray(2));
    try {
      return use(name, dsa, secretKey);
    } finally {
      secretKey.fill(0);
    }
  } finally {
    der.fill(0);
  }
}

/**
 * Verifies a pure ML-DSA signature (empty context) with the key of a SubjectPublicKeyInfo;
 * false for anything that is not an ML-DSA key, or not of the `expected` parameter set.
 * Synchronous once loaded, so certificate path validation can call it in its loop.
 */
export type MlDsaVerifier = (spki: Uint8Array, message: Uint8Array, signature: Uint8Array, expected?: MlDsaName) => boolean;

export async function loadMlDsaVerifier(): Promise<MlDsaVerifier> {
  const noble = await import('@noble/post-quantum/ml-dsa.js');
  const byName: Readonly<Record<MlDsaName, Noble['ml_dsa44']>> = { 'ML-DSA-44': noble.ml_dsa44, 'ML-DSA-65': noble.ml_dsa65, 'ML-DSA-87': noble.ml_dsa87 };
  return (spki, message, signature, expected) => {
    let info: SubjectPublicKeyInfo;
    try {
      info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    } catch {
      return false;
    }
    const name = mlDsaNameOfOid(info.algorithm.algorithm);
    if (name === undefined || (expected !== undefined && name !== expected) || info.algorithm.parameters != null) return false;
    try {
      const nodeKey = nodeKeyOf(spki);
      if (nodeKey !== undefined) return nodeVerify(null, message, nodeKey, signature);
      return byName[name].verify(signature, message, new Uint8Array(info.subjectPublicKey));
    } catch {
      return false;
    }
  };
}

/** node:crypto's key where this Node has ML-DSA (OpenSSL 3.5+), else undefined. */
function nodeKeyOf(spki: Uint8Array): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return key.asymmetricKeyType?.startsWith('ml-dsa') === true ? key : undefined;
  } catch {
    return undefined;
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
