import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';

/**
 * What the test proxy does with a CONNECT:
 * - tunnel: opens it (to 127.0.0.1, whatever `.test` name was asked for) and relays bytes;
 * - require-auth: tunnels only with the expected Basic credentials, else answers 407;
 * - close-tunnel: answers 200, then closes at once (a proxy that cannot reach the host);
 * - answer-502: answers 502 Bad Gateway;
 * - hang: accepts the connection and never answers.
 */
export type ProxyBehaviour = 'tunnel' | 'require-auth' | 'close-tunnel' | 'answer-502' | 'hang';

export interface TestProxy {
  /** http://127.0.0.1:PORT (https:// with `tls`). */
  readonly url: string;
  /** TCP connections accepted (a TLS handshake that fails still counts one). */
  readonly connections: number;
  /** CONNECT requests received. */
  readonly connects: number;
  close(): Promise<void>;
}

export interface TestProxyOptions {
  readonly behaviour: ProxyBehaviour;
  /** For require-auth: the user and password expected, as the proxy sees them (decoded). */
  readonly credentials?: { readonly user: string; readonly password: string };
  /** Serve the proxy itself over TLS with this certificate. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
}

/**
 * A CONNECT proxy on 127.0.0.1 (a free port) for end-to-end tests. It only ever connects to
 * 127.0.0.1, and only for made-up `.test` names, so no test traffic can leave the machine.
 */
export async function startConnectProxy(options: TestProxyOptions): Promise<TestProxy> {
  let connections = 0;
  let connects = 0;
  const sockets = new Set<Socket>();
  const server: Server = options.tls === undefined
    ? createHttpServer((_req, res) => res.writeHead(405).end())
    : createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (_req, res) => res.writeHead(405).end());
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    connects++;
    client.on('error', () => {});
    const match = /^([a-z0-9.-]+\.test):(\d+)$/.exec(req.url ?? '');
    if (match === null) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    switch (options.behaviour) {
      case 'hang':
        return;
      case 'answer-502':
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
        return;
      case 'close-tunnel':
        client.end('HTTP/1.1 200 Connection Established\r\n\r\n');
        return;
      case 'require-auth': {
        const expected = `Basic ${Buffer.from(`${options.credentials?.user ?? ''}:${options.credentials?.password ?? ''}`, 'utf8').toString('base64')}`;
        if (req.headers['proxy-authorization'] !== expected) {
          client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        break;
      }
      case 'tunnel':
        break;
    }
    const upstream = connect(Number(match[2]), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const scheme = options.tls === undefined ? 'http' : 'https';
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    get connects() {
      return connects;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createHttpServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
