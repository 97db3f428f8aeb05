import { constants, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { Test } from 'tap';
import { isSignerError } from '../../src/errors.js';
import { assertKeyMatchesCertificate } from '../../src/keys/match.js';
import type { KeySource, KeyType, SignDigest } from '../../src/keys/types.js';

/**
 * The one suite every KeySource passes, whatever holds the key (file, PKCS#11 token, TPM).
 * Signatures are checked with node:crypto against the certificate's public key - never with
 * the source's own word for it - in exactly the encoding SigV4-X509 puts on the wire.
 *
 *   await runKeySourceConformance(t, 'SoftHSM EC P-256', () => openPkcs11KeySource(spec), {
 *     keyType: 'EC', certificateDer, otherCertificateDer, secrets: [pin],
 *   });
 */
export interface ConformanceExpectations {
  readonly keyType: KeyType;
  /** The certificate issued for this key. */
  readonly certificateDer: Uint8Array;
  /** A certificate for another key of the same type: the mismatch must be detected. */
  readonly otherCertificateDer: Uint8Array;
  /** PINs/passwords used to open the source: they must not appear in its description or errors. */
  readonly secrets?: readonly string[];
}

const DIGESTS: readonly { readonly digest: SignDigest; readonly node: string }[] = [
  { digest: 'SHA256', node: 'sha256' },
  { digest: 'SHA384', node: 'sha384' },
  { digest: 'SHA512', node: 'sha512' },
];

export async function runKeySourceConformance(
  t: Test,
  name: string,
  open: () => Promise<KeySource>,
  expect: ConformanceExpectations,
): Promise<void> {
  await t.test(`${name}: KeySource conformance`, async (t) => {
    const certificateKey = new X509Certificate(expect.certificateDer).publicKey;
    const source = await open();
    t.teardown(() => source.close());

    t.equal(source.keyType, expect.keyType, 'keyType');
    t.type(source.description, 'string', 'description is a string');
    t.ok(source.description.length > 0, 'description is not empty');
    for (const secret of expect.secrets ?? []) {
      t.notOk(source.description.includes(secret), 'description holds no secret');
    }

    t.equal(source.publicKey.keyObject?.type, 'public', 'publicKey.keyObject is a public KeyObject');
    t.ok(spki(certificateKey).equals(source.publicKey.spki), 'publicKey.spki is the key the certificate certifies');
    t.ok(source.publicKey.keyObject !== undefined && spki(source.publicKey.keyObject).equals(source.publicKey.spki), 'publicKey.keyObject is the same key');

    if (source.certificate !== undefined) {
      await t.resolves(assertKeyMatchesCertificate(source, source.certificate), 'the certificate the source holds is for this key');
    }
    if (source.chain !== undefined) {
      t.ok(Array.isArray(source.chain), 'chain is an array');
      for (const der of source.chain) {
        t.ok(der instanceof Uint8Array, 'chain entries are DER bytes');
        t.doesNotThrow(() => new X509Certificate(der), 'chain entries are certificates');
        t.notOk(source.certificate !== undefined && Buffer.from(der).equals(Buffer.from(source.certificate)), 'the leaf is not in the chain');
      }
    }

    const message = Buffer.from(`conformance ${name} ${randomBytes(8).toString('hex')}`);
    for (const { digest, node } of DIGESTS) {
      const signature = await source.sign(message, digest);
      t.ok(signature instanceof Uint8Array, `${digest}: signature is a Uint8Array`);
      t.ok(verifyWire(expect.keyType, node, certificateKey, message, signature), `${digest}: verifies with the certificate key`);
      checkEncoding(t, expect.keyType, certificateKey, node, message, signature, digest);
    }

    const byDefault = await source.sign(message);
    t.ok(verifyWire(expect.keyType, 'sha256', certificateKey, message, byDefault), 'digest defaults to SHA256');
    const sha384 = await source.sign(message, 'SHA384');
    t.notOk(verifyWire(expect.keyType, 'sha256', certificateKey, message, sha384), 'the digest argument is honoured (a SHA384 signature is not a SHA256 one)');
    const otherMessage = Buffer.concat([message, Buffer.from('!')]);
    t.notOk(verifyWire(expect.keyType, 'sha256', certificateKey, otherMessage, byDefault), 'a signature does not verify for another message');

    for (const [label, bytes] of [['empty message', Buffer.alloc(0)], ['1 MiB message', randomBytes(1024 * 1024)]] as const) {
      const signature = await source.sign(bytes, 'SHA256');
      t.ok(verifyWire(expect.keyType, 'sha256', certificateKey, bytes, signature), `${label} signs and verifies`);
    }

    const messages = [0, 1, 2, 3].map((i) => Buffer.from(`concurrent ${i} ${randomBytes(8).toString('hex')}`));
    const concurrent = await Promise.all(messages.map((m) => source.sign(m, 'SHA256')));
    t.ok(
      concurrent.every((signature, i) => verifyWire(expect.keyType, 'sha256', certificateKey, messages[i] as Buffer, signature)),
      'concurrent signatures all verify',
    );

    await t.resolves(assertKeyMatchesCertificate(source, expect.certificateDer), 'assertKeyMatchesCertificate accepts the right certificate');
    let mismatch: unknown;
    try {
      await assertKeyMatchesCertificate(source, expect.otherCertificateDer);
    } catch (error) {
      mismatch = error;
    }
    t.ok(isSignerError(mismatch, 'CERT_KEY_MISMATCH'), 'assertKeyMatchesCertificate throws CERT_KEY_MISMATCH for another key\'s certificate');
    t.match((mismatch as Error | undefined)?.message ?? '', /^the private key .+ does not match certificate .+ \(serial \d+\): pass the certificate issued for this key$/, 'mismatch message');
    for (const secret of expect.secrets ?? []) {
      t.notOk(((mismatch as Error | undefined)?.message ?? '').includes(secret), 'mismatch message holds no secret');
    }

    await source.close();
    await t.resolves(source.close(), 'close twice is harmless');

    const reopened = await open();
    try {
      const again = await reopened.sign(message, 'SHA256');
      t.ok(verifyWire(expect.keyType, 'sha256', certificateKey, message, again), 'close, then open again, signs');
    } finally {
      await reopened.close();
    }
  });
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** Verifies the way the service does: PKCS#1 v1.5 for RSA, DER ECDSA for EC. */
function verifyWire(keyType: KeyType, digest: string, key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (keyType === 'RSA') return verify(digest, message, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (keyType === 'EC') return verify(digest, message, { key, dsaEncoding: 'der' }, signature);
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

function checkEncoding(t: Test, keyType: KeyType, key: KeyObject, digest: string, message: Uint8Array, signature: Uint8Array, label: string): void {
  if (keyType === 'RSA') {
    const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    t.equal(signature.length, modulusBytes, `${label}: RSA signature is one modulus long`);
    let pss = false;
    try {
      pss = verify(digest, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
    } catch {
      pss = false;
    }
    t.notOk(pss, `${label}: RSA signature is not PSS`);
  } else if (keyType === 'EC') {
    const orderBytes = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 48 : 32;
    const problem = strictEcdsaDerProblem(signature, orderBytes);
    t.equal(problem, undefined, `${label}: ECDSA signature is strict DER SEQUENCE{r,s}, not raw r||s`);
    let raw = false;
    try {
      raw = verify(digest, message, { key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      raw = false;
    }
    t.notOk(raw, `${label}: ECDSA signature does not verify as raw r||s`);
  }
}

/** Why `signature` is not a strict DER ECDSA-Sig-Value; undefined when it is one. */
export function strictEcdsaDerProblem(signature: Uint8Array, orderBytes: number): string | undefined {
  if (signature[0] !== 0x30) return 'does not start with a SEQUENCE tag';
  let offset = 1;
  let length = signature[offset++];
  if (length === undefined) return 'truncated';
  if (length === 0x81) {
    length = signature[offset++];
    if (length === undefined || length < 0x80) return 'non-minimal SEQUENCE length';
  } else if (length > 0x80) {
    return 'SEQUENCE length form not allowed here';
  }
  if (offset + length !== signature.length) return 'SEQUENCE length does not match the signature size';
  for (const part of ['r', 's']) {
    if (signature[offset++] !== 0x02) return `${part} is not an INTEGER`;
    const size = signature[offset++];
    if (size === undefined || size === 0 || size > 0x7f) return `${part} has a bad length`;
    const first = signature[offset] as number;
    const second = signature[offset + 1];
    if ((first & 0x80) !== 0) return `${part} is negative`;
    if (first === 0 && (size === 1 || second === undefined || (second & 0x80) === 0)) return `${part} has a non-minimal encoding`;
    const magnitude = first === 0 ? size - 1 : size;
    if (magnitude > orderBytes) return `${part} is longer than the curve order`;
    offset += size;
  }
  if (offset !== signature.length) return 'trailing bytes';
  return undefined;
}
