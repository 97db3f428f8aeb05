import { formatExpiration, type Credentials } from './types.js';

/**
 * The credential_process document, byte-compatible with the reference helper: compact JSON,
 * this key order, no trailing newline.
 */
export function formatCredentialProcessOutput(credentials: Credentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: formatExpiration(credentials.expiration),
  });
}
