import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import type { SecureContext } from 'node:tls';
import { silent, type DebugLog } from '../debug.js';
import { flattenHeaders, readCappedBody, type HttpOptions, type HttpRequest, type HttpResponse, type HttpSend } from './http-wire.js';

export type { HttpOptions, HttpRequest, HttpResponse, HttpSend } from './http-wire.js';
export { MAX_RESPONSE_BYTES } from './http-wire.js';

/**
 * Requests use node:http(s): built in, so a cold credential-process does not pay for loading
 * an HTTP library. Through a proxy (--with-proxy), ./http-proxy.js opens a CONNECT tunnel
 * (loaded only then) and the same request runs inside it. Redirects are never followed: a
 * signed request must not be replayed against another host. One connection per request:
 * nothing keeps the process alive after.
 */
export function createHttpSend(options: HttpOptions = {}): HttpSend {
  const env = options.env ?? process.env;
  const rejectUnauthorized = options.insecureSkipVerify !== true;
  let trust: { readonly context: SecureContext | undefined } | undefined;
  /**
   * Read once, and only when TLS is used (loaded then too, like the proxy code): reading CA
   * settings and building a context of many CAs takes tens of ms.
   */
  const trusted = async (debug: DebugLog): Promise<SecureContext | undefined> => {
    if (trust === undefined && !rejectUnauthorized) {
      debug('not verifying TLS certificates (--no-verify-ssl)');
      trust = { context: undefined };
    }
    if (trust === undefined) {
      const [{ resolveTrust }, { createSecureContext, rootCertificates }] = await Promise.all([import('./trust.js'), import('node:tls')]);
      const decision = resolveTrust({ env, homeDirectory: homedir(), readText, listDirectory, fileIdentity, builtInRoots: () => rootCertificates });
      debug(decision.description);
      trust = { context: decision.ca === undefined ? undefined : createSecureContext({ ca: [...decision.ca] }) };
    }
    return trust.context;
  };
  return async (request) => {
    const debug = request.debug ?? silent;
    if (options.useProxyFromEnvironment === true) {
      const { selectProxy } = await import('./proxy-env.js');
      const choice = selectProxy(request.url, env);
      if (choice.kind === 'proxy') {
        debug(`through the proxy ${choice.display} (from ${choice.variable})`);
        const { openTunnel, tunnelDropped } = await import('./http-proxy.js');
        const usesTls = request.url.protocol === 'https:' || choice.url.protocol === 'https:';
        const secureContext = usesTls ? await trusted(debug) : undefined;
        const socket = await openTunnel({ proxy: choice, target: request.url, signal: request.signal, secureContext, rejectUnauthorized });
        try {
          return await exchange(request, (target) => httpRequest({ ...target, createConnection: () => socket }));
        } catch (error) {
          // A plain-HTTP endpoint behind a tunnel that closes shows up here as a hang-up.
          const code = (error as { code?: unknown }).code;
          if (!request.signal.aborted && (code === 'ECONNRESET' || code === 'EPIPE')) throw tunnelDropped(choice, request.url, error);
          throw error;
        } finally {
          socket.destroy();
        }
      }
      debug(`no proxy: ${choice.reason}`);
    }
    if (request.url.protocol !== 'https:') return exchange(request, (target) => httpRequest({ ...target, agent: false }));
    // node:https and node:tls load only for https (the emulator and tests speak plain http).
    const [secureContext, { request: httpsRequest }] = await Promise.all([trusted(debug), import('node:https')]);
    return exchange(request, (target) =>
      httpsRequest({ ...target, agent: false, rejectUnauthorized, ...(secureContext !== undefined ? { secureContext } : {}) }),
    );
  };
}

/** One request and its answer, over whatever connection `open` sets up. */
function exchange(request: HttpRequest, open: (target: RequestOptions) => ClientRequest): Promise<HttpResponse> {
  const target = `${request.url.origin}${request.url.pathname}`;
  return new Promise<HttpResponse>((resolve, reject) => {
    const outgoing = open({
      host: request.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      ...(request.url.port !== '' ? { port: Number(request.url.port) } : {}),
      path: `${request.url.pathname}${request.url.search}`,
      method: request.method,
      headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body).toString() },
      signal: request.signal,
    });
    outgoing.once('response', (response: IncomingMessage) => {
      readCappedBody(response, target).then(
        (body) => resolve({ status: response.statusCode ?? 0, headers: flattenHeaders(response), body }),
        reject,
      );
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** CA bundles and the AWS config file are small regular files; a FIFO or a device is not read. */
const MAX_TRUST_FILE_BYTES = 8 * 1024 * 1024;

function readText(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_TRUST_FILE_BYTES) return undefined;
    const buffer = Buffer.alloc(stat.size);
    let filled = 0;
    while (filled < buffer.length) {
      const read = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return buffer.subarray(0, filled).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileIdentity(path: string): string | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat === undefined ? undefined : `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

function listDirectory(path: string): readonly string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

