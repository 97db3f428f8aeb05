/**
 * The emulator's HTTP(S) server: CreateSession at POST /sessions and the STS stub at POST /
 * (query protocol), one listener, bound to loopback unless told otherwise. Logs one line per
 * request and never a secret: no credentials, tokens, signatures or request bodies.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignerError } from '../errors.js';
import { toTerminalText } from '../terminal-text.js';
import type { ReceivedRequest } from './canonical-request.js';
import { resolveEmulatorConfig, type EmulatorConfig, type ResolvedEmulatorConfig } from './config.js';
import { handleCreateSession } from './create-session.js';

/** Room for the largest chain the service takes: five ML-DSA-87 certificates, base64, plus the leaf. */
const EMULATOR_MAX_HEADER_BYTES = 96 * 1024;
import { createSessionStore } from './sessions.js';
import { handleStsRequest } from './sts.js';

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Serve HTTPS with this certificate and key (PEM). */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  /** The emulator's notion of now (skew, validity, expiry); tests pass a fixed clock. */
  readonly clock?: () => Date;
  /** One line per request and per lifecycle event. */
  readonly log?: (line: string) => void;
  /** Resolves relative certificate paths of a config object; default the working directory. */
  readonly baseDir?: string;
}

export interface EmulatorStats {
  /** Requests received at each operation, accepted or not. */
  readonly createSession: number;
  readonly getCallerIdentity: number;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:40123 - pass it as --endpoint / --endpoint-url. */
  readonly url: string;
  readonly port: number;
  readonly stats: EmulatorStats;
  readonly config: ResolvedEmulatorConfig;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startEmulator(config: EmulatorConfig | ResolvedEmulatorConfig, options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = isResolved(config) ? config : resolveEmulatorConfig(config, options.baseDir === undefined ? {} : { baseDir: options.baseDir });
  const clock = options.clock ?? (() => new Date());
  // Log lines quote what clients sent (paths, decoded ARNs, session names): keep them inert.
  const log = (line: string): void => options.log?.(toTerminalText(line, 2000));
  const host = options.host ?? '127.0.0.1';
  const sessions = createSessionStore();
  const stats = { createSession: 0, getCallerIdentity: 0 };

  async function route(request: ReceivedRequest, response: ServerResponse): Promise<void> {
    const context = { config: resolved, sessions, now: clock() };
    if (request.method === 'POST' && request.path === '/sessions') {
      stats.createSession += 1;
      const outcome = await handleCreateSession(request, context);
      if (outcome.ok) {
        log(`CreateSession 201 ${outcome.summary}`);
        sendJson(response, 201, outcome.body, {});
      } else {
        const { rejection } = outcome;
        log(`CreateSession ${rejection.status} ${rejection.type} ${rejection.reason}: ${rejection.detail}`);
        sendJson(response, rejection.status, { message: rejection.message }, {
          'x-amzn-ErrorType': rejection.type,
          'x-emulator-reason': rejection.reason,
        });
      }
      return;
    }
    if (request.path === '/' && (request.method === 'POST' || request.method === 'GET')) {
      stats.getCallerIdentity += 1;
      const outcome = await handleStsRequest(request, context);
      log(`STS ${outcome.status} ${outcome.summary}`);
      send(response, outcome.status, 'text/xml', outcome.xml, {});
      return;
    }
    log(`${request.method} ${request.path} 404 no such route`);
    sendJson(response, 404, { message: `No route for ${request.method} ${request.path}; the emulator serves POST /sessions (CreateSession) and POST / (STS)` }, {
      'x-amzn-ErrorType': 'UnknownOperationException',
    });
  }

  const handler = (incoming: IncomingMessage, response: ServerResponse): void => {
    readRequest(incoming)
      .then(async (request) => {
        if (request === undefined) {
          sendJson(response, 413, { message: `Request body exceeds ${MAX_BODY_BYTES} bytes.` }, { 'x-amzn-ErrorType': 'ValidationException' });
          return;
        }
        await route(request, response);
      })
      .catch((error: unknown) => {
        // Never echo the error: it could quote request content. The log gets the class only.
        log(`${incoming.method ?? '?'} ${incoming.url ?? '?'} 500 internal error (${error instanceof Error ? error.name : typeof error})`);
        if (!response.headersSent) sendJson(response, 500, { message: 'Internal server error' }, { 'x-amzn-ErrorType': 'InternalServerException' });
        else response.destroy();
      });
  };

  // ML-DSA certificates are large: an ML-DSA-87 leaf and intermediate in X-Amz-X509 and
  // X-Amz-X509-Chain pass Node's 16 KiB default header limit, which would answer 431.
  const serverOptions = { maxHeaderSize: EMULATOR_MAX_HEADER_BYTES };
  const server: Server = options.tls === undefined
    ? createHttpServer(serverOptions, handler)
    : createHttpsServer({ ...serverOptions, cert: options.tls.certPem, key: options.tls.keyPem }, handler);
  // Keep-alive sockets would hold close() open for seconds; requests are small and fast.
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolvePromise, rejectPromise) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      rejectPromise(new SignerError('SERVE_BIND_FAILED', `emulator cannot listen on ${host}:${options.port ?? 0} (${error.code ?? error.message}); pick another --port or --host`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolvePromise();
    });
  });
  const address = server.address() as AddressInfo;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const urlHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : address.address;
  const url = `${scheme}://${urlHost}:${address.port}`;
  log(`emulator listening on ${url} (region ${resolved.region}, account ${resolved.accountId}, ${resolved.trustAnchors.size} trust anchor(s), ${resolved.profiles.size} profile(s))`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    config: resolved,
    get stats(): EmulatorStats {
      return { ...stats };
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function readRequest(incoming: IncomingMessage): Promise<ReceivedRequest | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  const target = incoming.url ?? '/';
  const queryStart = target.indexOf('?');
  const headers: Record<string, string> = {};
  // rawHeaders keeps repeated headers apart; SigV4 joins their values with ','.
  for (let index = 0; index + 1 < incoming.rawHeaders.length; index += 2) {
    const name = (incoming.rawHeaders[index] ?? '').toLowerCase();
    const value = incoming.rawHeaders[index + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return {
    method: incoming.method ?? 'GET',
    path: queryStart < 0 ? target : target.slice(0, queryStart),
    rawQuery: queryStart < 0 ? '' : target.slice(queryStart + 1),
    headers,
    body: new Uint8Array(Buffer.concat(chunks)),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  send(response, status, 'application/json', JSON.stringify(body), headers);
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string>): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(body);
}

function isResolved(config: EmulatorConfig | ResolvedEmulatorConfig): config is ResolvedEmulatorConfig {
  return config.trustAnchors instanceof Map;
}
