/** Defined where CreateSession returns it (src/rolesanywhere/credentials.ts); re-exported for existing importers. */
export type { Credentials } from '../rolesanywhere/credentials.js';

/** RFC 3339 in UTC without fractional seconds: botocore parses exactly `%Y-%m-%dT%H:%M:%SZ`. */
export function formatExpiration(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
