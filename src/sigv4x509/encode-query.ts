import { escapeUri } from './escape-uri.js';

/**
 * The canonical query string of SigV4 (also the form to send on the wire): names and values
 * RFC 3986-encoded, pairs sorted by encoded name then encoded value, joined with `&`.
 * Space is %20 (never +). Encoded text is ASCII, so `<` compares by code point.
 */
export function encodeQuery(query: ReadonlyArray<readonly [string, string]>): string {
  if (query.length === 0) return '';
  const encoded = query.map(([name, value]) => [escapeUri(name), escapeUri(value)] as const);
  encoded.sort(compareEncodedPairs);
  let result = '';
  for (const [name, value] of encoded) {
    result += result === '' ? `${name}=${value}` : `&${name}=${value}`;
  }
  return result;
}

function compareEncodedPairs(a: readonly [string, string], b: readonly [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}
