import { createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourcePublicKeyOf } from '../../src/keys/public-key.js';
import type { KeyType, SignDigest, SourcePublicKey } from '../../src/keys/types.js';
import type { SigningRequest } from '../../src/sigv4x509/types.js';
import { repoRoot } from '../helpers/paths.js';

/** Shapes of test/vectors/*.json (see scripts/make-vectors.ts for how the own ones are made). */
export interface EnvoyVectors {
  readonly region: string;
  readonly date: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly chainPem: string;
  readonly cases: ReadonlyArray<{
    readonly name: string;
    readonly method: string;
    readonly path: string;
    readonly query: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
    readonly canonicalRequest: string;
    readonly stringToSign: string;
    readonly authorization: string;
  }>;
}

export interface VectorKey {
  readonly keyType: KeyType;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

export interface OwnVectors {
  readonly chainPem: string;
  readonly keys: Readonly<Record<string, VectorKey>>;
  readonly cases: ReadonlyArray<{
    readonly name: string;
    readonly key: string;
    readonly region: string;
    readonly signingDate: string;
    readonly withChain: boolean;
    readonly request: SigningRequest;
    readonly wireQuery: string;
    readonly expected: {
      readonly headers: Readonly<Record<string, string>>;
      readonly canonicalRequest: string;
      readonly stringToSign: string;
      readonly signedHeaders: string;
      readonly authorization: string;
      readonly signatureIsDeterministic: boolean;
    };
  }>;
}

export interface SignStringVectors {
  readonly cases: ReadonlyArray<{
    readonly key: string;
    readonly digest: SignDigest;
    readonly messageHex: string;
    readonly signatureHex: string;
    readonly signatureIsDeterministic: boolean;
  }>;
}

export function readVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(repoRoot, 'test', 'vectors', name), 'utf8')) as T;
}

export function derOf(certificatePem: string): Uint8Array {
  return new X509Certificate(certificatePem).raw;
}

/** A real software key (node:crypto), shaped like a KeySource, counting its signatures. */
export interface SoftwareKey {
  readonly keyType: KeyType;
  readonly publicKey: SourcePublicKey;
  readonly signatures: number;
  sign(message: Uint8Array, digest?: SignDigest): Promise<Uint8Array>;
}

export function softwareKey(privateKeyPem: string, keyType: KeyType): SoftwareKey {
  const privateKey = createPrivateKey(privateKeyPem);
  let signatures = 0;
  return {
    keyType,
    publicKey: sourcePublicKeyOf(createPublicKey(privateKey)),
    get signatures() {
      return signatures;
    },
    async sign(message, digest = 'SHA256') {
      signatures++;
      return sign(digest.toLowerCase(), message, keyType === 'EC' ? { key: privateKey, dsaEncoding: 'der' } : privateKey);
    },
  };
}
