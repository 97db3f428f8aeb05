import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SignerError } from '../errors.js';
import { silent, type DebugLog } from '../debug.js';
import type { NativeAddon } from '../native.js';
import { urlHost, type BindPlan } from './bind.js';
import { withoutQuery, type ServeHandler, type ServeResponse } from './types.js';

export interface HttpServerOptions {
  readonly bind: BindPlan;
  readonly port: number;
  readonly handler: ServeHandler;
  /** Applied to the listening socket and to every accepted one; needs the addon. */
  readonly hopLimit?: { readonly hops: number; readonly addon: NativeAddon };
  readonly debug: DebugLog;
  /** Notices that always reach the log (a connection dropped for lack of a hop limit). */
  readonly log: (line: string) => void;
  /** Slow-client limits; tests shorten them. */
  readonly timeouts?: Partial<HttpTimeouts>;
}

/**
 * How long a client may take. No endpoint here takes a body, so a request is its headers: a
 * client that has not sent them within seconds is a stuck or hostile one (slowloris). Node
 * enforces headersTimeout/requestTimeout only when it checks its connections, every 30 s by
 * default: far too late under 1,000 half-open sockets, so the check runs every second.
 */
export interface HttpTimeouts {
  readonly headersMs: number;
  readonly requestMs: number;
  readonly keepAliveMs: number;
  readonly checkEveryMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = Object.freeze({ headersMs: 5_000, requestMs: 5_000, keepAliveMs: 5_000, checkEveryMs: 1_000 });

export interface RunningHttpServer {
  /** http://host:port/ with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stops accepting, lets requests in progress finish for up to graceMs, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/**
 * A small node:http server around a ServeHandler. The hop limit is set on the listening
 * socket (Linux copies it to accepted sockets, so even the SYN-ACK is limited) and again on
 * each accepted socket, as the reference helper does; a socket the limit cannot be set on is
 * closed before any byte is answered. Request bodies are never read: no endpoint takes one.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
  const server = createServer({
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: timeouts.checkEveryMs,
  }, (request, response) => {
    answer(request, response, options);
  });
  server.maxHeadersCount = 64;
  if (options.hopLimit !== undefined) {
    const { hops, addon } = options.hopLimit;
    server.on('connection', (socket: Socket) => {
      try {
        addon.setHopLimit(socketFd(socket), hops);
      } catch (error) {
        options.log(`dropped a connection: cannot set its hop limit (${(error as Error).message})`);
        socket.destroy();
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(new SignerError('SERVE_BIND_FAILED', `cannot listen on ${urlHost(options.bind.host, options.bind.family)}:${options.port} (${error.code ?? error.message}): ${bindHint(error.code)}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: options.bind.host, port: options.port, ipv6Only: options.bind.family === 6, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });

  if (options.hopLimit !== undefined) {
    try {
      options.hopLimit.addon.setHopLimit(socketFd(server), options.hopLimit.hops);
    } catch (error) {
      server.close();
      throw new SignerError('HARDENING_UNAVAILABLE', `cannot set the hop limit ${options.hopLimit.hops} on the listening socket (${(error as Error).message}): run without --hop-limit or report this`, { cause: error });
    }
  }

  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${urlHost(options.bind.host, options.bind.family)}:${port}/`,
    port,
    server,
    close: (graceMs = 2000) => closeServer(server, graceMs),
  };
}

function answer(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions): void {
  request.resume();
  let result: ServeResponse | Promise<ServeResponse>;
  try {
    result = options.handler({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers });
  } catch (error) {
    fail(request, response, options, error);
    return;
  }
  // Most answers come from memory: sent in this tick, no promise in between.
  if (result instanceof Promise) result.then((settled) => send(request, response, options, settled), (error: unknown) => fail(request, response, options, error));
  else send(request, response, options, result);
}

function send(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions, result: ServeResponse): void {
  try {
    const { headers, body } = result;
    response.writeHead(result.status, headers['content-length'] !== undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  } catch (error) {
    fail(request, response, options, error);
    return;
  }
  // Paths carry no secrets (tokens travel in headers); headers are never logged. The line is
  // only built under --debug: no per-request work that nobody reads.
  if (options.debug !== silent) options.debug(`${request.method ?? '?'} ${withoutQuery(request.url ?? '/')} -> ${result.status}`);
}

function fail(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions, error: unknown): void {
  options.log(`internal error answering ${request.method ?? '?'} ${withoutQuery(request.url ?? '/')}: ${(error as Error).name}`);
  if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
  response.end('Internal Server Error');
  if (options.debug !== silent) options.debug(`${request.method ?? '?'} ${withoutQuery(request.url ?? '/')} -> 500`);
}

/** node:net keeps the descriptor on its internal handle; there is no public accessor. */
function socketFd(target: Socket | Server): number {
  const fd = (target as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor for this socket');
  return fd;
}

function bindHint(code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'another process uses that port: stop it or pick another --port';
    case 'EADDRNOTAVAIL':
      return 'no interface has that address: check --bind';
    case 'EACCES':
      return 'ports below 1024 need privileges: pick a --port above 1023';
    default:
      return 'check --bind and --port';
  }
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
