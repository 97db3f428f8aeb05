/**
 * RFC 3986 percent-encoding as SigV4 wants it: everything but the unreserved set
 * (A-Z a-z 0-9 - _ . ~) becomes %XX of its UTF-8 bytes, with upper-case hex.
 * encodeURIComponent leaves ! ' ( ) * alone, so those are finished here.
 */
export function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, escapeReservedMark);
}

function escapeReservedMark(mark: string): string {
  return `%${mark.charCodeAt(0).toString(16).toUpperCase()}`;
}
