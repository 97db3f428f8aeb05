import type { CredentialsSnapshot } from '../credentials/refresher.js';

/** What a credential endpoint sees of a request: enough to route it, nothing of the socket. */
export interface ServeRequest {
  readonly method: string;
  /** The request target as sent, query string included. */
  readonly url: string;
  /** Lower-case names, as node:http delivers them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface ServeResponse {
  readonly status: number;
  /** With content-length where the producer knows it (the server adds it otherwise). */
  readonly headers: Readonly<Record<string, string>>;
  /** Text, or bytes encoded once (credentials bodies). */
  readonly body: string | Buffer;
}

/**
 * A credential endpoint (IMDSv2 or container) as a pure function of the request. It answers
 * at once when it can (credentials in memory): a promise only when it has to wait.
 */
export type ServeHandler = (request: ServeRequest) => ServeResponse | Promise<ServeResponse>;

export function headerValue(request: ServeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

export function hasHeader(request: ServeRequest, name: string): boolean {
  return request.headers[name] !== undefined;
}

export function pathOf(request: ServeRequest): string {
  return withoutQuery(request.url);
}

export function withoutQuery(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function text(status: number, body: string, headers: Record<string, string> = {}): ServeResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store' });

export function jsonBody(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): ServeResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: jsonBody(value) };
}

/**
 * A response body built once per set of credentials, not once per request: the refresher
 * hands out the same Credentials object until the next refresh, so that object is the key.
 */
export function renderedOncePerCredentials<T>(render: (snapshot: CredentialsSnapshot) => T): (snapshot: CredentialsSnapshot) => T {
  let last: { readonly credentials: CredentialsSnapshot['credentials']; readonly obtainedAt: number; readonly value: T } | undefined;
  return (snapshot) => {
    if (last === undefined || last.credentials !== snapshot.credentials || last.obtainedAt !== snapshot.obtainedAt.getTime()) {
      last = { credentials: snapshot.credentials, obtainedAt: snapshot.obtainedAt.getTime(), value: render(snapshot) };
    }
    return last.value;
  };
}
