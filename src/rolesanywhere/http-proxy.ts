import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type SecureContext } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import { SignerError } from '../errors.js';
import { defaultPort, type ProxyChoice } from './proxy-env.js';

/**
 * --with-proxy: a CONNECT tunnel through the proxy, written here rather than borrowed from an
 * HTTP library so that each way a proxy can say no (refused connection, 407, a refused or
 * dropped tunnel, its own untrusted certificate) becomes its own line naming the proxy and the
 * variable it came from. Loaded only with --with-proxy. Every step follows the caller's signal.
 */
export interface TunnelOptions {
  readonly proxy: ProxyChoice;
  /** The endpoint: CONNECT goes to its host and port; an https: target gets TLS inside the tunnel. */
  readonly target: URL;
  readonly signal: AbortSignal;
  /** The CAs to trust (AWS_CA_BUNDLE ...); undefined keeps Node's defaults. */
  readonly secureContext: SecureContext | undefined;
  readonly rejectUnauthorized: boolean;
}

/** Opens the tunnel (and, for https, the TLS session to the endpoint inside it). */
export async function openTunnel(options: TunnelOptions): Promise<Socket> {
  const raw = await connectThroughProxy(options);
  if (options.target.protocol !== 'https:') return raw;
  return startTls(raw, options);
}

/** The endpoint's host and port as CONNECT names them (IPv6 in brackets). */
export function tunnelAuthority(target: URL): string {
  return `${target.hostname}:${defaultPort(target)}`;
}

/** The tunnel was up, then closed before an answer: the proxy could not (or would not) reach the host. */
export function tunnelDropped(proxy: ProxyChoice, target: URL, cause: unknown): SignerError {
  return new SignerError('PROXY_TUNNEL_FAILED', `the proxy ${proxy.display} (from ${proxy.variable}) accepted the tunnel to ${tunnelAuthority(target)} and then closed it without an answer: the proxy probably cannot reach that host or blocks it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly`, { cause });
}

function connectThroughProxy(options: TunnelOptions): Promise<Socket> {
  const { proxy, target, signal } = options;
  const authority = tunnelAuthority(target);
  const headers: Record<string, string> = { host: authority };
  const credentials = proxyCredentials(proxy.url);
  if (credentials !== undefined) headers['proxy-authorization'] = `Basic ${credentials.toString('base64')}`;
  credentials?.fill(0);
  const secureProxy = proxy.url.protocol === 'https:';
  const common = {
    host: proxy.url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: defaultPort(proxy.url),
    method: 'CONNECT',
    path: authority,
    headers,
    signal,
    agent: false as const,
  };

  return new Promise<Socket>((resolve, reject) => {
    const outgoing = secureProxy
      ? httpsRequest({
          ...common,
          // SNI carries names only, never addresses (RFC 6066 section 3).
          ...(isIP(common.host) === 0 ? { servername: common.host } : {}),
          // The proxy's certificate names the proxy; Node would check it against the Host header (the endpoint).
          checkServerIdentity: (_name: string, certificate: PeerCertificate) => checkServerIdentity(common.host, certificate),
          rejectUnauthorized: options.rejectUnauthorized,
          ...(options.secureContext !== undefined ? { secureContext: options.secureContext } : {}),
        })
      : httpRequest(common);
    outgoing.once('connect', (response: IncomingMessage, socket: Socket, head: Buffer) => {
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(refusal(proxy, authority, status, response.statusMessage, credentials !== undefined));
    });
    outgoing.once('error', (error: Error & { code?: string }) => {
      if (error.name === 'AbortError' || signal.aborted) {
        reject(error);
        return;
      }
      reject(connectionFailure(proxy, authority, error));
    });
    outgoing.end();
  });
}

function startTls(raw: Socket, options: TunnelOptions): Promise<Socket> {
  const { target, signal } = options;
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise<Socket>((resolve, reject) => {
    const secure = tlsConnect({
      socket: raw,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      host,
      rejectUnauthorized: options.rejectUnauthorized,
      ...(options.secureContext !== undefined ? { secureContext: options.secureContext } : {}),
    });
    const onAbort = (): void => {
      secure.destroy();
      raw.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    secure.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      secure.removeAllListeners('error');
      resolve(secure);
    });
    secure.once('error', (error: Error & { code?: string }) => {
      signal.removeEventListener('abort', onAbort);
      raw.destroy();
      // A certificate the endpoint presents (or a TLS-inspecting proxy presents in its name)
      // goes to the caller as it is: the client words trust failures the same with or without a proxy.
      if (typeof error.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME/.test(error.code)) reject(error);
      else reject(tunnelDropped(options.proxy, target, error));
    });
  });
}

/** user:password from the proxy URL, decoded (the URL holds them percent-encoded); a Buffer so it can be wiped. */
function proxyCredentials(url: URL): Buffer | undefined {
  if (url.username === '' && url.password === '') return undefined;
  try {
    return Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`, 'utf8');
  } catch {
    // Not valid percent-encoding: send it as written rather than guess.
    return Buffer.from(`${url.username}:${url.password}`, 'utf8');
  }
}

function refusal(proxy: ProxyChoice, authority: string, status: number, statusMessage: string | undefined, sentCredentials: boolean): SignerError {
  const from = `the proxy ${proxy.display} (from ${proxy.variable})`;
  if (status === 407) {
    return sentCredentials
      ? new SignerError('PROXY_AUTH_REQUIRED', `${from} refused the user name and password given in ${proxy.variable} (407): check them; in the URL, characters such as @ : / % must be percent-encoded (@ is %40)`)
      : new SignerError('PROXY_AUTH_REQUIRED', `${from} requires authentication (407 Proxy Authentication Required): put the user name and password in ${proxy.variable}, percent-encoded, as http://user:password@host:port`);
  }
  const reason = printable(statusMessage);
  return new SignerError('PROXY_TUNNEL_FAILED', `${from} refused the tunnel to ${authority} (${status}${reason === '' ? '' : ` ${reason}`}): the proxy cannot reach that host or does not allow it; check --endpoint with whoever runs the proxy, or add the host to NO_PROXY if it must be reached directly`);
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNABORTED']);

function connectionFailure(proxy: ProxyChoice, authority: string, error: Error & { code?: string }): SignerError {
  const from = `the proxy ${proxy.display} (from ${proxy.variable})`;
  const code = error.code ?? 'connection failed';
  if (/CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME/.test(code)) {
    return new SignerError('PROXY_TLS_UNTRUSTED', `the TLS certificate of ${from} is not trusted (${code}): add the CA that issued it with AWS_CA_BUNDLE, SSL_CERT_FILE or NODE_EXTRA_CA_CERTS, or use the proxy's http:// address`, { cause: error });
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new SignerError('PROXY_UNREACHABLE', `cannot connect to ${from} (${code}): check that the proxy runs and that ${proxy.variable} names it, or leave out --with-proxy`, { cause: error });
  }
  return new SignerError('PROXY_TUNNEL_FAILED', `${from} closed the connection without answering CONNECT ${authority} (${code}): check that ${proxy.variable} names an HTTP proxy`, { cause: error });
}

/** A proxy's reason phrase is foreign text: printable ASCII only, short. */
function printable(text: string | undefined): string {
  return (text ?? '').replace(/[^\x20-\x7e]/g, '').trim().slice(0, 60);
}
