import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type { HttpOptions, HttpSend } from './http.js';

/**
 * --with-proxy: undici's fetch with EnvHttpProxyAgent, which reads HTTPS_PROXY, HTTP_PROXY
 * and NO_PROXY (either case) and tunnels with CONNECT.
 */
export function createProxiedHttpSend(options: HttpOptions): HttpSend {
  const dispatcher = new EnvHttpProxyAgent({ connect: { rejectUnauthorized: options.insecureSkipVerify !== true } });
  return async (request) => {
    // fetch derives Host from the URL (the value that was signed) and will not take it as a header.
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
