/**
 * Temporary AWS credentials as CreateSession issues them: what this layer returns, so it is
 * defined here; credentials/ (cache, credential_process output, SDK provider) builds on it.
 */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}
