import { isIP } from 'node:net';
import { SignerError } from '../errors.js';
import { noProxyMatches } from './no-proxy.js';

/** A proxy picked from the environment, with where it came from (for messages). */
export interface ProxyChoice {
  readonly kind: 'proxy';
  readonly url: URL;
  /** The variable that named it: HTTPS_PROXY, https_proxy, HTTP_PROXY or http_proxy. */
  readonly variable: string;
  /** The proxy as messages show it: scheme, host and port; never the user or password. */
  readonly display: string;
}

export interface DirectChoice {
  readonly kind: 'direct';
  /** Why no proxy is used, for --debug. */
  readonly reason: string;
}

/**
 * Which proxy --with-proxy uses for `target`, read as Go's net/http (the reference helper) reads
 * it: https URLs use HTTPS_PROXY (then https_proxy), http URLs HTTP_PROXY (then http_proxy), with
 * no fallback from one scheme to the other; a proxy without a scheme is http://; NO_PROXY (then
 * no_proxy) as `noProxyMatches` reads it; localhost and loopback addresses are never proxied.
 */
export function selectProxy(target: URL, env: Readonly<Record<string, string | undefined>>): ProxyChoice | DirectChoice {
  if (isLoopback(target.hostname)) return { kind: 'direct', reason: `${target.hostname} is a loopback address, never proxied` };
  const names = target.protocol === 'https:' ? ['HTTPS_PROXY', 'https_proxy'] : ['HTTP_PROXY', 'http_proxy'];
  const variable = names.find((name) => nonEmpty(env[name]));
  if (variable === undefined) {
    const other = target.protocol === 'https:' ? ['HTTP_PROXY', 'http_proxy'].find((name) => nonEmpty(env[name])) : undefined;
    const hint = other === undefined ? '' : ` (${other} applies to http:// endpoints only)`;
    return { kind: 'direct', reason: `${names.join(' and ')} are not set${hint}` };
  }
  const noProxyVariable = ['NO_PROXY', 'no_proxy'].find((name) => nonEmpty(env[name]));
  const port = defaultPort(target);
  if (noProxyVariable !== undefined && noProxyMatches(env[noProxyVariable] ?? '', target.hostname, port)) {
    return { kind: 'direct', reason: `${target.hostname}:${port} matches ${noProxyVariable}` };
  }
  const url = parseProxyUrl(env[variable] ?? '', variable);
  return { kind: 'proxy', url, variable, display: `${url.protocol}//${url.host}` };
}

function parseProxyUrl(text: string, variable: string): URL {
  const value = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    // The value may hold a password: name the variable, not its content.
    throw new SignerError('PROXY_INVALID', `${variable} is not a proxy URL: use http://host:port (or https://host:port), with user:password@ before the host if the proxy needs them`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SignerError('PROXY_INVALID', `${variable} names a ${url.protocol.slice(0, -1)} proxy; only http:// and https:// proxies are supported`);
  }
  if (url.hostname === '') {
    throw new SignerError('PROXY_INVALID', `${variable} has no host name: use http://host:port`);
  }
  return url;
}

export function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || (isIP(host) === 4 && host.startsWith('127.')) || host === '[::1]' || host === '::1';
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
