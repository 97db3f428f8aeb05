import { createHash, X509Certificate } from 'node:crypto';
import { readUserFile } from '../../files/read-user-file.js';
import { resolveKeyOptions } from '../../keys/index.js';
import type { IdentityOptions } from '../../keys/identity.js';
import { keySourceFor } from '../../keys/registry.js';

export interface CacheKeyParts {
  /** What identifies the certificate (see certificateIdentity). */
  readonly certificate: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly region: string;
  readonly endpoint: string;
  readonly durationSeconds: number;
  readonly roleSessionName?: string;
}

/** SHA-256 over the parts in a fixed order; also the file name, so nothing readable leaks through it. */
export function cacheKey(parts: CacheKeyParts): string {
  const ordered = [
    'v1',
    parts.certificate,
    parts.trustAnchorArn,
    parts.profileArn,
    parts.roleArn,
    parts.region,
    parts.endpoint,
    String(parts.durationSeconds),
    parts.roleSessionName ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
}

/**
 * Identifies the certificate without opening the key (no PIN, no touch): the SHA-256
 * fingerprint of a certificate file, else what the key source names it by (its descriptor's
 * cacheIdentity: a PKCS#12 file's digest, a token certificate's URI without PIN, the first
 * certificate in a TSS2 key file). Undefined when nothing is available (a TPM handle without
 * --certificate): then there is nothing safe to key by, and the cache is skipped.
 */
export async function certificateIdentity(identity: IdentityOptions, readFile: (path: string) => Buffer = readUserFile): Promise<string | undefined> {
  let resolved;
  try {
    resolved = resolveKeyOptions(identity, readFile);
  } catch {
    return undefined;
  }
  const { spec, certificateFile } = resolved;
  try {
    if (certificateFile !== undefined) return fingerprintOf(readFile(certificateFile));
    // Where the certificate lives in the source (a token, a PKCS#12 or TSS2 file), the source says what names it.
    return await keySourceFor(spec).cacheIdentity(spec, readFile);
  } catch {
    // Unreadable or unparsable: the normal path reports it properly.
  }
  return undefined;
}

function fingerprintOf(certificate: Buffer): string {
  const parsed = new X509Certificate(certificate);
  return `sha256:${createHash('sha256').update(parsed.raw).digest('hex')}`;
}
