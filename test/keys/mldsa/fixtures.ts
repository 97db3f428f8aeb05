import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

/**
 * ML-DSA keys in every PKCS#8 form, built here from noble's key generation and a DER writer
 * of the test's own, so the reader under test (src/keys/mldsa) is not also the writer.
 */
export const PARAMETER_SETS = {
  'ML-DSA-44': { oid: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11], dsa: ml_dsa44 },
  'ML-DSA-65': { oid: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12], dsa: ml_dsa65 },
  'ML-DSA-87': { oid: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13], dsa: ml_dsa87 },
} as const;

export type ParameterSetName = keyof typeof PARAMETER_SETS;

export function tlv(tag: number, value: Uint8Array): Buffer {
  const n = value.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), value]);
}

/** PKCS#8 PrivateKeyInfo around `privateKey` (the contents of the privateKey OCTET STRING). */
export function pkcs8(name: ParameterSetName, privateKey: Uint8Array, oidBytes: readonly number[] = PARAMETER_SETS[name].oid): Buffer {
  return tlv(0x30, Buffer.concat([
    Buffer.from([0x02, 0x01, 0x00]),
    tlv(0x30, tlv(0x06, Buffer.from(oidBytes))),
    tlv(0x04, privateKey),
  ]));
}

export interface MlDsaFixture {
  readonly seed: Uint8Array;
  readonly expandedKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly spki: Buffer;
  readonly seedForm: Buffer;
  readonly expandedForm: Buffer;
  readonly bothForm: Buffer;
}

export function mlDsaFixture(name: ParameterSetName, seed: Uint8Array): MlDsaFixture {
  const { secretKey, publicKey } = PARAMETER_SETS[name].dsa.keygen(seed);
  return {
    seed,
    expandedKey: secretKey,
    publicKey,
    spki: tlv(0x30, Buffer.concat([tlv(0x30, tlv(0x06, Buffer.from(PARAMETER_SETS[name].oid))), tlv(0x03, Buffer.concat([Buffer.from([0]), publicKey]))])),
    seedForm: pkcs8(name, tlv(0x80, seed)),
    expandedForm: pkcs8(name, tlv(0x04, secretKey)),
    bothForm: pkcs8(name, tlv(0x30, Buffer.concat([tlv(0x04, seed), tlv(0x04, secretKey)]))),
  };
}

export function pem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/**
 * Encrypted PKCS#8 (PBES2: PBKDF2 with HMAC-SHA256, AES-256-CBC), written here because neither
 * OpenSSL 3.0 nor node:crypto on Node.js 20 can load, and so encrypt, an ML-DSA key.
 */
export function encryptPkcs8(der: Uint8Array, password: string, iterations = 2048): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(der), cipher.final()]);
  const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, 'hex'));
  const integer = (value: number): Buffer => tlv(0x02, Buffer.from(value.toString(16).padStart(value > 0x7fff ? 6 : 4, '0'), 'hex'));
  const pbkdf2Params = tlv(0x30, Buffer.concat([tlv(0x04, salt), integer(iterations), tlv(0x30, Buffer.concat([oid('2a864886f70d0209'), Buffer.from([0x05, 0x00])]))]));
  const pbes2Params = tlv(0x30, Buffer.concat([
    tlv(0x30, Buffer.concat([oid('2a864886f70d01050c'), pbkdf2Params])),
    tlv(0x30, Buffer.concat([oid('60864801650304012a'), tlv(0x04, iv)])),
  ]));
  return tlv(0x30, Buffer.concat([tlv(0x30, Buffer.concat([oid('2a864886f70d01050d'), pbes2Params])), tlv(0x04, encrypted)]));
}
