import { SignerError } from '../errors.js';

/** Key types `enroll` generates: the ones the service accepts and common tokens make. */
export type EnrollKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072';

export const ENROLL_KEY_TYPES: readonly EnrollKeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'];

export function parseEnrollKeyType(text: string): EnrollKeyType {
  const normalized = text.toLowerCase().replace(/[:_]/g, '-').replace(/^ec-p-?/, 'ec-p').replace(/^rsa(\d)/, 'rsa-$1');
  const found = ENROLL_KEY_TYPES.find((type) => type === normalized);
  if (found === undefined) {
    throw new SignerError('USAGE', `--key-type ${JSON.stringify(text)} is not one enroll can generate: use one of ${ENROLL_KEY_TYPES.join(', ')}`);
  }
  return found;
}

export function describeEnrollKeyType(type: EnrollKeyType): string {
  return { 'ec-p256': 'EC P-256', 'ec-p384': 'EC P-384', 'rsa-2048': 'RSA 2048', 'rsa-3072': 'RSA 3072' }[type];
}
