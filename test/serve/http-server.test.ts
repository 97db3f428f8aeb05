import t from 'tap';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { startHttpServer } from '../../src/serve/http-server.js';
import { planBind } from '../../src/serve/bind.js';
import { loadNativeAddon, type NativeAddon } from '../../src/native.js';
import { text } from '../../src/serve/types.js';

const native = loadNativeAddon({});
const addon = native.addon;
const noAddon = addon === undefined ? `native addon not built: ${native.reason}` : false;

function fdOf(socket: Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd;
}

async function get(url: string, path = '/x'): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(path, url));
  return { status: response.status, body: await response.text() };
}

for (const bindAddress of ['127.0.0.1', '::1']) {
  t.test(`the hop limit is set on the listening socket and on each accepted one (${bindAddress})`, { skip: noAddon }, async (t) => {
    const server = await startHttpServer({
      bind: planBind(bindAddress, { allowNonLoopback: false, hopLimit: 3 }),
      port: 0,
      handler: async () => text(200, 'ok'),
      hopLimit: { hops: 3, addon: addon as NativeAddon },
      debug: () => {},
      log: () => {},
    });
    t.teardown(() => server.close());
    t.equal(addon?.getHopLimit((server.server as unknown as { _handle: { fd: number } })._handle.fd), 3, 'listening socket');
    const seen: number[] = [];
    server.server.on('connection', (socket: Socket) => seen.push(addon?.getHopLimit(fdOf(socket)) ?? -1));
    t.same(await get(server.url), { status: 200, body: 'ok' });
    t.same(seen, [3], 'accepted socket');
    t.match(server.url, bindAddress === '::1' ? /^http:\/\/\[::1\]:\d+\/$/ : /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
}

t.test('without a hop limit the system default stays', { skip: noAddon }, async (t) => {
  const server = await startHttpServer({ bind: planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 64 }), port: 0, handler: async () => text(200, 'ok'), debug: () => {}, log: () => {} });
  t.teardown(() => server.close());
  t.equal(addon?.getHopLimit((server.server as unknown as { _handle: { fd: number } })._handle.fd), 64);
});

t.test('a socket whose hop limit cannot be set is closed before it is answered', async (t) => {
  const logs: string[] = [];
  let calls = 0;
  // Stands in for a kernel that refuses the option on accepted sockets only.
  const refusing: NativeAddon = {
    setHopLimit: () => {
      calls++;
      if (calls > 1) throw Object.assign(new Error('setsockopt(IP_TTL): Operation not permitted'), { code: 'EPERM' });
    },
    getHopLimit: () => 64,
    disableCoreDumps: () => ({ coreLimitZero: true, nonDumpable: true }),
    processProtection: () => ({ coreSoftLimit: 0, coreHardLimit: 0, dumpable: 0 }),
    lockMemory: () => true,
    unlockMemory: () => {},
  };
  let handled = 0;
  const server = await startHttpServer({
    bind: planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 1 }),
    port: 0,
    handler: async () => {
      handled++;
      return text(200, 'ok');
    },
    hopLimit: { hops: 1, addon: refusing },
    debug: () => {},
    log: (line) => logs.push(line),
  });
  t.teardown(() => server.close());
  await t.rejects(get(server.url));
  t.equal(handled, 0, 'no request reached the handler');
  t.same(logs, ['dropped a connection: cannot set its hop limit (setsockopt(IP_TTL): Operation not permitted)']);
});

t.test('a port in use is reported as SERVE_BIND_FAILED with what to do', async (t) => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  await t.rejects(
    startHttpServer({ bind: planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 64 }), port, handler: async () => text(200, 'ok'), debug: () => {}, log: () => {} }),
    { code: 'SERVE_BIND_FAILED', message: `cannot listen on 127.0.0.1:${port} (EADDRINUSE): another process uses that port: stop it or pick another --port` },
  );
});

t.test('close lets a request in progress finish, then stops accepting', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered: () => void = () => {};
  const handling = new Promise<void>((resolve) => (entered = resolve));
  const server = await startHttpServer({
    bind: planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 64 }),
    port: 0,
    handler: async () => {
      entered();
      await gate;
      return text(200, 'finished');
    },
    debug: () => {},
    log: () => {},
  });
  const inProgress = get(server.url);
  // The request is in the handler (not merely sent) before close is called: no sleep, no race.
  await handling;
  const closing = server.close(5000);
  release();
  t.same(await inProgress, { status: 200, body: 'finished' });
  await closing;
  const refused = connect(server.port, '127.0.0.1');
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  t.equal(error.code, 'ECONNREFUSED');
});

t.test('request paths reach the debug log, headers never do', async (t) => {
  const lines: string[] = [];
  const server = await startHttpServer({ bind: planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 64 }), port: 0, handler: async () => text(401, 'no'), debug: (line) => lines.push(line), log: () => {} });
  t.teardown(() => server.close());
  await fetch(new URL('/latest/meta-data/iam/security-credentials/?q=1', server.url), { headers: { 'x-aws-ec2-metadata-token': 'TOKEN-VALUE-123' } });
  t.same(lines, ['GET /latest/meta-data/iam/security-credentials/ -> 401']);
});

t.test('slow and silent clients are cut off by the headers timeout, and others are still served', async (t) => {
  const server = await startHttpServer({
    bind: planBind('127.0.0.1', { allowNonLoopback: false, hopLimit: 64 }),
    port: 0,
    handler: async () => text(200, 'ok'),
    debug: () => {},
    log: () => {},
    timeouts: { headersMs: 300, requestMs: 300, checkEveryMs: 50 },
  });
  t.teardown(() => server.close(0));
  const sockets: Socket[] = [];
  for (let i = 0; i < 50; i++) {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    // Read what the server sends (a 408, then the end of the stream) so that its close is seen.
    socket.resume();
    // Half the sockets start a request and never finish its headers (slowloris); half say nothing.
    if (i % 2 === 0) socket.write('GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    sockets.push(socket);
  }
  t.same(await get(server.url), { status: 200, body: 'ok' }, 'a normal client is served meanwhile');
  // Every socket gets closed by the server; the test's own timeout bounds the wait.
  await Promise.all(sockets.map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
  t.ok(sockets.every((socket) => socket.destroyed), 'all 50 slow sockets were closed by the server');
});

t.test('the default limits close a slow client within seconds, not the 30 s Node checks by default', async (t) => {
  const { DEFAULT_HTTP_TIMEOUTS } = await import('../../src/serve/http-server.js');
  t.ok(DEFAULT_HTTP_TIMEOUTS.headersMs <= 5_000 && DEFAULT_HTTP_TIMEOUTS.checkEveryMs <= 1_000, 'headers within 5 s, checked every second');
});
