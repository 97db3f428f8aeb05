import { SignerError } from '../errors.js';
import { escapeUri } from './escape-uri.js';

/**
 * CanonicalURI of SigV4 for every service but S3: each segment of the path as sent on the wire
 * is URI-encoded once more (so `%` becomes `%25`: the "encode twice" rule), `/` kept.
 * Paths with empty, `.` or `..` segments are refused rather than normalized: the path we send
 * and the path we sign must be the same string, and our paths never need normalizing.
 */
export function buildCanonicalUri(path: string): string {
  if (path === '' || path === '/') return '/';
  if (!path.startsWith('/')) {
    throw new SignerError('USAGE', `request path "${path}" must start with "/": pass the path as sent on the wire`);
  }
  const segments = path.slice(1).split('/');
  let canonical = '';
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const isTrailingSlash = i === segments.length - 1 && segment === '';
    if (!isTrailingSlash && (segment === '' || segment === '.' || segment === '..')) {
      throw new SignerError('USAGE', `request path "${path}" has an empty, "." or ".." segment: pass a normalized path`);
    }
    canonical += `/${escapeUri(segment)}`;
  }
  return canonical;
}
