/** Temporary AWS credentials as CreateSession issues them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** RFC 3339 in UTC without fractional seconds: botocore parses exactly `%Y-%m-%dT%H:%M:%SZ`. */
export function formatExpiration(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
