import { encodeQuery } from '../sigv4x509/encode-query.js';
import type { ResolvedEndpoint } from './endpoint.js';

/** What CreateSession needs besides the signature. */
export interface CreateSessionParameters {
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly durationSeconds: number;
  readonly roleSessionName?: string;
}

export interface CreateSessionHttpRequest {
  readonly method: 'POST';
  readonly host: string;
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Where to send it: origin plus path and encoded query. */
  readonly url: URL;
}

/**
 * The request exactly as the reference helper sends it: ARNs in the query, duration (and the
 * optional session name) in a compact JSON body. `host` keeps a non-default port, because the
 * Host header sent on the wire carries it and is signed.
 */
export function buildCreateSessionRequest(endpoint: ResolvedEndpoint, parameters: CreateSessionParameters): CreateSessionHttpRequest {
  const basePath = endpoint.url.pathname.replace(/\/+$/, '');
  const path = `${basePath}/sessions`;
  const query: Array<readonly [string, string]> = [
    ['profileArn', parameters.profileArn],
    ['roleArn', parameters.roleArn],
    ['trustAnchorArn', parameters.trustAnchorArn],
  ];
  const body: { durationSeconds: number; roleSessionName?: string } = { durationSeconds: parameters.durationSeconds };
  if (parameters.roleSessionName !== undefined) body.roleSessionName = parameters.roleSessionName;
  const url = new URL(endpoint.url.origin);
  url.pathname = path;
  // The wire query is the canonical one, so what the server re-canonicalizes is what we signed.
  url.search = encodeQuery(query);
  return {
    method: 'POST',
    host: endpoint.url.host,
    path,
    query,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    url,
  };
}
