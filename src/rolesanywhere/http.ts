import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The wire layer's view of HTTP: enough for CreateSession, easy to replace in tests. */
export interface HttpRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signal: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

export interface HttpOptions {
  /** --no-verify-ssl: accept any server certificate (for test endpoints only). */
  readonly insecureSkipVerify?: boolean;
  /** Honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment. */
  readonly useProxyFromEnvironment?: boolean;
}

/** Responses larger than this are not CreateSession answers; stop reading instead of buffering. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Direct requests use node:http(s): built in, so a cold credential-process does not pay for
 * loading an HTTP library. Through a proxy, undici's EnvHttpProxyAgent does the CONNECT work
 * (loaded only then). Redirects are never followed: a signed request must not be replayed
 * against another host. One connection per request: nothing keeps the process alive after.
 */
export function createHttpSend(options: HttpOptions = {}): HttpSend {
  if (options.useProxyFromEnvironment === true) return proxiedSend(options);
  return (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const send = request.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const outgoing = send(
        request.url,
        {
          method: request.method,
          headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body).toString() },
          signal: request.signal,
          agent: false,
          rejectUnauthorized: options.insecureSkipVerify !== true,
        },
        (response) => {
          readBody(response).then(
            (body) => resolve({ status: response.statusCode ?? 0, headers: flattenHeaders(response), body }),
            reject,
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function flattenHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function proxiedSend(options: HttpOptions): HttpSend {
  let loaded: Promise<HttpSend> | undefined;
  return async (request) => {
    loaded ??= import('./http-proxy.js').then(({ createProxiedHttpSend }) => createProxiedHttpSend(options));
    return (await loaded)(request);
  };
}
