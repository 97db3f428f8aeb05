import { createHash } from 'node:crypto';

/** Algorithm \n X-Amz-Date \n scope \n hex(sha256(canonical request)). */
export function buildStringToSign(algorithm: string, amzDate: string, credentialScope: string, canonicalRequest: string): string {
  const hashedRequest = createHash('sha256').update(canonicalRequest, 'utf8').digest('hex');
  return `${algorithm}\n${amzDate}\n${credentialScope}\n${hashedRequest}`;
}
