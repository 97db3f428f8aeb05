/**
 * Key families the service accepts; each maps to one SigV4-X509 algorithm. The core's
 * vocabulary: certs/ and keys/ take it from here (keys/types.ts re-exports it).
 */
export type KeyType = 'RSA' | 'EC' | 'ML-DSA';

/** Digests a key source can apply; SigV4-X509 always uses SHA256, `sign-string --digest` the others. */
export type SignDigest = 'SHA256' | 'SHA384' | 'SHA512';

/** An HTTP request before signing. */
export interface SigningRequest {
  readonly method: string;
  /** The Host header value: host name, plus `:port` when the endpoint uses a non-default port. */
  readonly host: string;
  /** The path as sent on the wire (already percent-encoded where it needs to be). */
  readonly path: string;
  /** Decoded name/value pairs; send them in the order `encodeQuery` gives. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Other headers to send (content-type, user-agent, ...); any case, one value each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What signs: a KeySource fits. `sign` hashes with SHA-256 itself and returns wire encoding. */
export interface RequestSigner {
  readonly keyType: KeyType;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface SigningOptions {
  readonly signer: RequestSigner;
  /** DER of the leaf certificate; sent as X-Amz-X509, its serial goes into Credential=. */
  readonly certificate: Uint8Array;
  /** DER certificates above the leaf, issuer order, at most 5; sent as X-Amz-X509-Chain. */
  readonly chain?: readonly Uint8Array[] | undefined;
  readonly region: string;
  /** Defaults to 'rolesanywhere'. */
  readonly service?: string;
  /** The clock is a parameter: the core never reads the time itself. */
  readonly signingDate: Date;
}

export interface SignedRequest {
  /** Every header to send, lower-case names, authorization included. */
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signedHeaders: string;
  /** The signature in wire encoding, as the key source returned it (hex in Authorization). */
  readonly signature: Uint8Array;
}
