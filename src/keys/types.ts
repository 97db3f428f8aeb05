import type { KeyObject } from 'node:crypto';
import type { KeyType, SignDigest } from '../sigv4x509/types.js';

/** Defined in the core (src/sigv4x509/types.ts); re-exported here for existing importers. */
export type { KeyType, SignDigest };

/**
 * The public half of a key source, in the one form every key type has: SubjectPublicKeyInfo
 * DER, compared byte for byte with the certificate's. `keyObject` is node:crypto's view where
 * the running Node can hold the key type (RSA, EC); undefined where it cannot (ML-DSA on
 * Node.js 20). Build one from a KeyObject with sourcePublicKeyOf (public-key.ts).
 */
export interface SourcePublicKey {
  readonly spki: Uint8Array;
  readonly keyObject: KeyObject | undefined;
}

/**
 * A private key that can sign, wherever it lives (file, PKCS#11 token, TPM).
 *
 * `sign` receives the whole message (the string to sign, as bytes) and returns the signature
 * already in wire encoding: PKCS#1 v1.5 for RSA, ASN.1 DER SEQUENCE{r,s} for EC, over the
 * digest asked for (SHA256 when omitted). Hashing happens inside the source because some
 * hardware only signs digests. ML-DSA signs the message itself (pure ML-DSA, empty context,
 * deterministic: FIPS 204 raw signature bytes) and ignores `digest`.
 *
 * `certificate` and `chain` are set when the source itself holds them (a PKCS#11 token, a
 * PKCS#12 file, a TSS2 key file with CERTIFICATE blocks); the caller may override both.
 */
export interface KeySource {
  readonly keyType: KeyType;
  /** The public half, used to prove the key matches the certificate before any network call. */
  readonly publicKey: SourcePublicKey;
  /** DER of the leaf certificate, when the source holds one. */
  readonly certificate?: Uint8Array;
  /** DER certificates that issue the leaf, leaf first excluded, issuer order. */
  readonly chain?: readonly Uint8Array[];
  /** A secret-free name for messages, e.g. a file path or a pkcs11: URI without PIN. */
  readonly description: string;
  sign(message: Uint8Array, digest?: SignDigest): Promise<Uint8Array>;
  close(): Promise<void>;
}
