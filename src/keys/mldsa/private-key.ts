import { DER_TAG, decodeDerOid, decodeDerSmallInteger, expectDerConstructed, readDerChildren, readStrictDerElement, type DerElement } from '../../asn1/der.js';
import { SignerError } from '../../errors.js';
import { ML_DSA_SEED_BYTES, mlDsaParametersOfOid, type MlDsaParameters } from '../../certs/mldsa-parameters.js';

/**
 * An ML-DSA private key as PKCS#8 holds it (RFC 9881 section 6): the privateKey OCTET STRING
 * wraps the CHOICE
 *   seed        [0] IMPLICIT OCTET STRING (SIZE (32)),
 *   expandedKey OCTET STRING,
 *   both        SEQUENCE { seed OCTET STRING (SIZE (32)), expandedKey OCTET STRING }
 * The byte arrays are copies the caller owns and must zero; the PKCS#8 bytes stay the caller's.
 */
export interface MlDsaPrivateKeyInfo {
  readonly parameters: MlDsaParameters;
  readonly seed: Uint8Array | undefined;
  readonly expandedKey: Uint8Array | undefined;
}

/** The ML-DSA parameter set a PKCS#8 PrivateKeyInfo names, or undefined for any other key (or non-PKCS#8 bytes). */
export function mlDsaParametersOfPkcs8(der: Uint8Array): MlDsaParameters | undefined {
  try {
    const top = readStrictDerElement(der);
    if (top === undefined || top.encoded.length !== der.length) return undefined;
    const [version, algorithm] = expectDerConstructed(top, DER_TAG.SEQUENCE, 3, 'PrivateKeyInfo');
    if (version?.tag !== DER_TAG.INTEGER) return undefined;
    const [oid] = expectDerConstructed(algorithm, DER_TAG.SEQUENCE, 1, 'privateKeyAlgorithm');
    return mlDsaParametersOfOid(decodeDerOid(oid, 'privateKeyAlgorithm'));
  } catch {
    return undefined;
  }
}

/**
 * Reads an ML-DSA PKCS#8 PrivateKeyInfo; `source` names the file in messages. The lengths are
 * checked here (wrong seed length, truncated expanded key), the seed/expanded-key agreement of
 * the `both` form by the caller, which has the arithmetic.
 */
export function readMlDsaPrivateKeyInfo(der: Uint8Array, source: string): MlDsaPrivateKeyInfo {
  const damaged = (detail: string): SignerError =>
    new SignerError('KEY_INVALID', `${source} holds a damaged ML-DSA private key (${detail}): get a fresh copy of the file, or make a new key`);
  let fields: DerElement[];
  let parameters: MlDsaParameters | undefined;
  let choice: DerElement;
  try {
    const top = readStrictDerElement(der);
    if (top === undefined || top.encoded.length !== der.length) throw damaged('not one DER structure');
    fields = expectDerConstructed(top, DER_TAG.SEQUENCE, 3, 'PrivateKeyInfo');
    const version = decodeDerSmallInteger(fields[0], 'PrivateKeyInfo version', 1);
    if (version > 1) throw damaged(`PKCS#8 version ${version}`);
    const algorithm = expectDerConstructed(fields[1], DER_TAG.SEQUENCE, 1, 'privateKeyAlgorithm');
    parameters = mlDsaParametersOfOid(decodeDerOid(algorithm[0], 'privateKeyAlgorithm'));
    if (algorithm.length > 1) throw damaged('the algorithm identifier has parameters, which ML-DSA forbids');
    if (fields[2]?.tag !== DER_TAG.OCTET_STRING) throw damaged('no privateKey OCTET STRING');
    const inner = readStrictDerElement(fields[2].value);
    if (inner === undefined || inner.encoded.length !== fields[2].value.length) throw damaged('the privateKey is cut short or has trailing bytes');
    choice = inner;
  } catch (error) {
    if (error instanceof SignerError && error.code === 'KEY_INVALID') throw error;
    throw damaged('not a well-formed PKCS#8 structure');
  }
  if (parameters === undefined) throw new SignerError('INTERNAL', `${source}: not an ML-DSA key`);

  let seed: Uint8Array | undefined;
  let expandedKey: Uint8Array | undefined;
  if (choice.tag === DER_TAG.CONTEXT_0_PRIMITIVE) {
    seed = choice.value;
  } else if (choice.tag === DER_TAG.OCTET_STRING) {
    expandedKey = choice.value;
  } else if (choice.tag === DER_TAG.SEQUENCE) {
    let parts: DerElement[];
    try {
      parts = readDerChildren(choice);
    } catch {
      throw damaged('the seed-and-expanded-key SEQUENCE is malformed');
    }
    if (parts.length !== 2 || parts[0]?.tag !== DER_TAG.OCTET_STRING || parts[1]?.tag !== DER_TAG.OCTET_STRING) {
      throw damaged('the seed-and-expanded-key SEQUENCE does not hold two OCTET STRINGs');
    }
    seed = parts[0].value;
    expandedKey = parts[1].value;
  } else {
    throw damaged(`the privateKey is none of seed, expandedKey or both (tag 0x${choice.tag.toString(16)})`);
  }
  if (seed !== undefined && seed.length !== ML_DSA_SEED_BYTES) {
    throw new SignerError('KEY_INVALID', `${source} holds an ${parameters.name} seed of ${seed.length} bytes; a seed is ${ML_DSA_SEED_BYTES} bytes: get a fresh copy of the file, or make a new key`);
  }
  if (expandedKey !== undefined && expandedKey.length !== parameters.expandedKeyBytes) {
    throw new SignerError('KEY_INVALID', `${source} holds an ${parameters.name} expanded key of ${expandedKey.length} bytes; it must be ${parameters.expandedKeyBytes}: get a fresh copy of the file, or make a new key`);
  }
  // Copies: the caller zeroes the PKCS#8 bytes and these independently.
  return {
    parameters,
    seed: seed === undefined ? undefined : Uint8Array.from(seed),
    expandedKey: expandedKey === undefined ? undefined : Uint8Array.from(expandedKey),
  };
}

/** SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID }, BIT STRING (no unused bits) }. */
export function encodeMlDsaSpki(parameters: MlDsaParameters, publicKey: Uint8Array): Uint8Array {
  return derSequence(derSequence(encodeOid(parameters.oid)), derTlv(DER_TAG.BIT_STRING, concat(Uint8Array.of(0), publicKey)));
}

function derSequence(...children: Uint8Array[]): Uint8Array {
  return derTlv(DER_TAG.SEQUENCE, concat(...children));
}

function derTlv(tag: number, value: Uint8Array): Uint8Array {
  const length = value.length;
  const header = length < 0x80
    ? Uint8Array.of(tag, length)
    : length < 0x100
      ? Uint8Array.of(tag, 0x81, length)
      : length < 0x10000
        ? Uint8Array.of(tag, 0x82, length >> 8, length & 0xff)
        : Uint8Array.of(tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
  return concat(header, value);
}

function encodeOid(oid: string): Uint8Array {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [40 * (arcs[0] as number) + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const groups: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) groups.unshift((rest & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return derTlv(DER_TAG.OID, Uint8Array.from(bytes));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
