import { createHash } from 'node:crypto';

/** Hashes the PKCS#12 KDF and MAC may use, with the block size `v` the KDF needs. */
export const PKCS12_KDF_HASHES = Object.freeze({
  sha1: { outputLength: 20, blockLength: 64 },
  sha224: { outputLength: 28, blockLength: 64 },
  sha256: { outputLength: 32, blockLength: 64 },
  sha384: { outputLength: 48, blockLength: 128 },
  sha512: { outputLength: 64, blockLength: 128 },
});

export type Pkcs12KdfHash = keyof typeof PKCS12_KDF_HASHES;

/** RFC 7292 appendix B.3: what the derived bytes are for. */
export const PKCS12_KDF_PURPOSE = Object.freeze({ KEY: 1, IV: 2, MAC: 3 });

/**
 * The PKCS#12 key derivation function (RFC 7292 appendix B.2), used by
 * pbeWithSHAAnd3-KeyTripleDES-CBC and by the integrity MAC of every PFX. `password` is
 * already in BMPString form (see bmpPassword). Intermediate buffers holding password material
 * are zeroed before returning.
 */
export function pkcs12Kdf(
  hash: Pkcs12KdfHash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  purpose: number,
  length: number,
): Buffer {
  const { outputLength: u, blockLength: v } = PKCS12_KDF_HASHES[hash];
  const diversifier = Buffer.alloc(v, purpose);
  const saltPart = repeatToBlocks(salt, v);
  const passwordPart = repeatToBlocks(password, v);
  const input = Buffer.concat([saltPart, passwordPart]);
  passwordPart.fill(0);
  const output = Buffer.alloc(Math.ceil(length / u) * u);
  const block = Buffer.alloc(v);
  try {
    for (let offset = 0; offset < length; offset += u) {
      let digest = createHash(hash).update(diversifier).update(input).digest();
      for (let round = 1; round < iterations; round++) {
        const next = createHash(hash).update(digest).digest();
        digest.fill(0);
        digest = next;
      }
      digest.copy(output, offset);
      // I_j = (I_j + B + 1) mod 2^(8v), with B the digest repeated to v bytes.
      for (let i = 0; i < v; i++) block[i] = digest[i % u] as number;
      digest.fill(0);
      for (let start = 0; start < input.length; start += v) {
        let carry = 1;
        for (let i = v - 1; i >= 0; i--) {
          const sum = (input[start + i] as number) + (block[i] as number) + carry;
          input[start + i] = sum & 0xff;
          carry = sum >>> 8;
        }
      }
    }
    return Buffer.from(output.subarray(0, length));
  } finally {
    input.fill(0);
    block.fill(0);
    output.fill(0);
  }
}

function repeatToBlocks(data: Uint8Array, v: number): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  const out = Buffer.alloc(Math.ceil(data.length / v) * v);
  for (let i = 0; i < out.length; i++) out[i] = data[i % data.length] as number;
  return out;
}

/**
 * The password as the PKCS#12 KDF wants it: UTF-16BE with a two-byte terminator (RFC 7292
 * B.1), converted from the UTF-8 bytes without ever making a JavaScript string of it (strings
 * cannot be zeroed). Bytes that are not valid UTF-8 are taken one byte per character, as
 * OpenSSL does. The caller zeroes the result.
 */
export function bmpPassword(utf8: Uint8Array): Buffer {
  const codePoints = decodeUtf8(utf8) ?? Array.from(utf8);
  const units: number[] = [];
  for (const codePoint of codePoints) {
    if (codePoint > 0xffff) {
      const offset = codePoint - 0x10000;
      units.push(0xd800 + (offset >> 10), 0xdc00 + (offset & 0x3ff));
    } else {
      units.push(codePoint);
    }
  }
  codePoints.fill(0);
  const out = Buffer.alloc(units.length * 2 + 2);
  units.forEach((unit, i) => out.writeUInt16BE(unit, i * 2));
  units.fill(0);
  return out;
}

function decodeUtf8(bytes: Uint8Array): number[] | undefined {
  const codePoints: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const first = bytes[i] as number;
    const extra = first < 0x80 ? 0 : first >= 0xc2 && first < 0xe0 ? 1 : first >= 0xe0 && first < 0xf0 ? 2 : first >= 0xf0 && first < 0xf5 ? 3 : -1;
    if (extra < 0 || i + extra >= bytes.length) {
      codePoints.fill(0);
      return undefined;
    }
    let codePoint = extra === 0 ? first : first & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k] as number;
      if ((next & 0xc0) !== 0x80) {
        codePoints.fill(0);
        return undefined;
      }
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    const minimum = [0, 0x80, 0x800, 0x10000][extra] as number;
    if (codePoint < minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
      codePoints.fill(0);
      return undefined;
    }
    codePoints.push(codePoint);
    i += extra + 1;
  }
  return codePoints;
}
