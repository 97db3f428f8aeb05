import { Agent, EnvHttpProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';

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

/**
 * undici's own fetch with an explicit dispatcher: Node 20's global fetch ignores proxy
 * variables and cannot skip TLS verification per request. Redirects are errors: a signed
 * request must not be replayed against another host.
 */
export function createHttpSend(options: HttpOptions = {}): HttpSend {
  const connect = { rejectUnauthorized: options.insecureSkipVerify !== true };
  const dispatcher: Dispatcher = options.useProxyFromEnvironment
    ? new EnvHttpProxyAgent({ connect })
    : new Agent({ connect });
  return async (request) => {
    // fetch derives Host from the URL (the same value that was signed) and refuses to take it
    // as a header, so it is left out here.
    const { host: _signedHost, ...headers } = request.headers;
    const response = await undiciFetch(request.url, {
      method: request.method,
      headers,
      body: request.body,
      signal: request.signal,
      redirect: 'manual',
      dispatcher,
    });
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    return { status: response.status, headers: responseHeaders, body: await response.text() };
  };
}
