import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildCommand } from '../../../src/keys/tpm/marshal.js';
import { getCapabilityCommand } from '../../../src/keys/tpm/commands.js';
import { TPM_CAP } from '../../../src/keys/tpm/constants.js';
import { deviceOpenError, openTransport, socketConnectError } from '../../../src/keys/tpm/transport.js';
import type { TpmTarget } from '../../../src/keys/tpm/tcti.js';
import { swtpmFor, tempDir } from './rig.js';

const transientQuery = buildCommand(getCapabilityCommand({ capability: TPM_CAP.HANDLES, property: 0x80000000, propertyCount: 64 }).frame);
const EMPTY_HANDLE_LIST = '80010000001300000000' + '00' + '00000001' + '00000000';

function target(swtpmTcti: string): TpmTarget {
  if (swtpmTcti.startsWith('unix:')) return { kind: 'unix', path: swtpmTcti.slice(5), origin: 'test' };
  const port = Number(/port=(\d+)/.exec(swtpmTcti)?.[1]);
  return { kind: 'tcp', host: '127.0.0.1', port, origin: 'test' };
}

/** A peer that is not a TPM, for the failures a TPM does not produce on demand. */
async function peer(t: Test, onConnection: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    // Reading to the end lets the server see our side close, so server.close() can finish.
    socket.resume();
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
  return { port: (server.address() as { port: number }).port, server };
}

t.test('swtpm over TCP: whole responses, concurrent callers serialized', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'tcp' });
  const transport = await openTransport(target(swtpm.tcti));
  t.teardown(() => transport.close());
  t.equal(transport.description, `swtpm 127.0.0.1:${swtpm.port}`);
  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => transport.transmit(transientQuery)));
  for (const answer of answers) t.equal(answer.toString('hex'), EMPTY_HANDLE_LIST);
});

t.test('swtpm over a UNIX socket', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'unix' });
  const transport = await openTransport(target(swtpm.tcti));
  t.teardown(() => transport.close());
  t.equal(transport.description, `UNIX socket ${swtpm.socketPath}`);
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);
  await transport.close();
  await t.rejects(transport.transmit(transientQuery), { code: 'INTERNAL', message: `the connection to the TPM at UNIX socket ${swtpm.socketPath} is closed` });
});

t.test('a connection that dropped while idle is opened again (swtpm restarted)', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'tcp' });
  const transport = await openTransport(target(swtpm.tcti));
  t.teardown(() => transport.close());
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);
  await swtpm.restart();
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);
});

t.test('a simulator that is gone: refused, then answering again after it is back', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'tcp' });
  const transport = await openTransport(target(swtpm.tcti));
  t.teardown(() => transport.close());
  // A connection that has answered is retried when it turns out dead, so the command always
  // reaches the reconnect (refused), however late the close of the old connection is noticed.
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);
  await swtpm.stop();
  await t.rejects(transport.transmit(transientQuery), {
    code: 'TPM_UNAVAILABLE',
    message: `nothing accepts connections at swtpm 127.0.0.1:${swtpm.port} (from test) (ECONNREFUSED): start the TPM simulator or fix the TCTI`,
  });
  await swtpm.restart();
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);
});

t.test('a connection that died unnoticed after answering: the command is sent once more on a new one', async (t) => {
  let connections = 0;
  const { port } = await peer(t, (socket) => {
    const mine = ++connections;
    let commands = 0;
    socket.on('data', () => {
      commands++;
      // The first connection answers once, then hangs up on the next command (a restart the
      // client had not seen yet); the second connection answers everything.
      if (mine === 1 && commands > 1) socket.destroy();
      else socket.write(Buffer.from(EMPTY_HANDLE_LIST, 'hex'));
    });
  });
  const transport = await openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'test' });
  t.teardown(() => transport.close());
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST, 'answered on a new connection');
  t.equal(connections, 2);
});

t.test('a peer that closes the connection instead of answering', async (t) => {
  let connections = 0;
  const { port } = await peer(t, (socket) => {
    connections++;
    socket.once('data', () => socket.destroy());
  });
  const transport = await openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'test' });
  t.teardown(() => transport.close());
  const closed = {
    code: 'TPM_TRANSPORT_FAILED',
    message: `swtpm 127.0.0.1:${port} closed the connection before answering: check that the TPM simulator is running and serves no other client`,
  };
  await t.rejects(transport.transmit(transientQuery), closed);
  await t.rejects(transport.transmit(transientQuery), closed, 'the next command connects again');
  t.equal(connections, 2);
});

t.test('a peer that is not a TPM (an HTTP server)', async (t) => {
  const { port } = await peer(t, (socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
  const transport = await openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'test' });
  t.teardown(() => transport.close());
  await t.rejects(transport.transmit(transientQuery), {
    code: 'TPM_TRANSPORT_FAILED',
    message: `swtpm 127.0.0.1:${port} answered with something that is not a TPM 2.0 response (tag 0x4854): check that it is a TPM (swtpm's data port, not its control port)`,
  });
});

t.test('a response that arrives byte by byte is read whole; extra bytes are refused', async (t) => {
  const answer = Buffer.from(EMPTY_HANDLE_LIST, 'hex');
  const { port } = await peer(t, (socket) =>
    socket.on('data', async () => {
      for (const byte of answer) {
        socket.write(Buffer.from([byte]));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }),
  );
  const transport = await openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'test' });
  t.teardown(() => transport.close());
  t.equal((await transport.transmit(transientQuery)).toString('hex'), EMPTY_HANDLE_LIST);

  const { port: chattyPort } = await peer(t, (socket) => socket.on('data', () => socket.write(Buffer.concat([answer, Buffer.from([0])]))));
  const chatty = await openTransport({ kind: 'tcp', host: '127.0.0.1', port: chattyPort, origin: 'test' });
  t.teardown(() => chatty.close());
  await t.rejects(chatty.transmit(transientQuery), {
    code: 'TPM_TRANSPORT_FAILED',
    message: `swtpm 127.0.0.1:${chattyPort} sent 1 byte(s) more than its response holds: the other end does not speak the TPM 2.0 command protocol`,
  });
});

t.test('a peer that sends part of a non-TPM answer and waits is refused on its first two bytes', async (t) => {
  const { port } = await peer(t, (socket) => socket.once('data', () => socket.write('HT')));
  const transport = await openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'test' }, { responseTimeoutMs: 60_000 });
  t.teardown(() => transport.close());
  await t.rejects(transport.transmit(transientQuery), {
    code: 'TPM_TRANSPORT_FAILED',
    message: `swtpm 127.0.0.1:${port} answered with something that is not a TPM 2.0 response (tag 0x4854): check that it is a TPM (swtpm's data port, not its control port)`,
  });
});

t.test('a peer that never answers times out', async (t) => {
  const { port } = await peer(t, () => undefined);
  const transport = await openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'test' }, { responseTimeoutMs: 200 });
  t.teardown(() => transport.close());
  await t.rejects(transport.transmit(transientQuery), { code: 'TPM_TRANSPORT_FAILED', message: `swtpm 127.0.0.1:${port} did not answer within 0.2 s: check that it is a TPM (swtpm's data port) and that no other program holds it` });
});

t.test('nothing there: refused port, missing socket, missing device', async (t) => {
  const { port, server } = await peer(t, () => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.rejects(openTransport({ kind: 'tcp', host: '127.0.0.1', port, origin: 'TPM2TOOLS_TCTI' }), {
    code: 'TPM_UNAVAILABLE',
    message: `nothing accepts connections at swtpm 127.0.0.1:${port} (from TPM2TOOLS_TCTI) (ECONNREFUSED): start the TPM simulator or fix the TCTI`,
  });
  const dir = tempDir(t, 'tpm-transport');
  await t.rejects(openTransport({ kind: 'unix', path: join(dir, 'none.sock'), origin: 'TPM_DEVICE' }), {
    code: 'TPM_UNAVAILABLE',
    message: `the TPM socket ${join(dir, 'none.sock')} (from TPM_DEVICE) does not exist: start the TPM simulator or fix the path`,
  });
  await t.rejects(openTransport({ kind: 'device', path: join(dir, 'tpmrm0'), origin: 'the default device' }), {
    code: 'TPM_UNAVAILABLE',
    message: `no TPM at ${join(dir, 'tpmrm0')} (ENOENT): check that the machine has a TPM and its driver is loaded, or point ROLES_ANYWHERE_TPM_TCTI at another TPM`,
  });
});

t.test('device and socket errors a test machine cannot produce (root, no TPM) map to clear messages', async (t) => {
  const device: Extract<TpmTarget, { kind: 'device' }> = { kind: 'device', path: '/dev/tpmrm0', origin: 'the default device' };
  t.has(deviceOpenError(device, Object.assign(new Error('x'), { code: 'EACCES' })), {
    code: 'TPM_PERMISSION_DENIED',
    message: 'permission denied opening /dev/tpmrm0: add your user to the group that owns it (usually tss: sudo usermod -aG tss $USER, then log in again)',
  });
  t.has(deviceOpenError({ ...device, path: '/dev/tpm0', origin: 'TPM_DEVICE' }, Object.assign(new Error('x'), { code: 'EBUSY' })), {
    code: 'TPM_UNAVAILABLE',
    message: '/dev/tpm0 (from TPM_DEVICE) is in use by another program (a resource manager such as tpm2-abrmd holds it): use /dev/tpmrm0 instead',
  });
  t.has(deviceOpenError(device, Object.assign(new Error('x'), { code: 'EIO' })), { code: 'TPM_TRANSPORT_FAILED', message: 'cannot open the TPM at /dev/tpmrm0 (EIO)' });
  const socket: Extract<TpmTarget, { kind: 'unix' }> = { kind: 'unix', path: '/run/swtpm.sock', origin: 'TPM_DEVICE' };
  t.has(socketConnectError(socket, 'UNIX socket /run/swtpm.sock', Object.assign(new Error('x'), { code: 'EACCES' })), {
    code: 'TPM_PERMISSION_DENIED',
    message: "permission denied connecting to UNIX socket /run/swtpm.sock (from TPM_DEVICE): check the socket's owner and mode",
  });
  const tcp: Extract<TpmTarget, { kind: 'tcp' }> = { kind: 'tcp', host: 'tpm.invalid', port: 2321, origin: 'TPM2TOOLS_TCTI' };
  t.has(socketConnectError(tcp, 'swtpm tpm.invalid:2321', Object.assign(new Error('x'), { code: 'EAI_AGAIN' })), {
    code: 'TPM_UNAVAILABLE',
    message: 'the host of swtpm tpm.invalid:2321 (from TPM2TOOLS_TCTI) cannot be resolved (EAI_AGAIN): fix the host= in the TCTI',
  });
  t.has(socketConnectError(tcp, 'swtpm tpm.invalid:2321', Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })), {
    code: 'TPM_UNAVAILABLE',
    message: 'cannot connect to the TPM at swtpm tpm.invalid:2321 (from TPM2TOOLS_TCTI) (EHOSTUNREACH)',
  });
});

t.test('the device transport: one write, one whole read (a FIFO echoes the command back)', async (t) => {
  const dir = tempDir(t, 'tpm-fifo');
  const fifo = join(dir, 'tpm');
  execFileSync('mkfifo', [fifo]);
  const transport = await openTransport({ kind: 'device', path: fifo, origin: 'test' });
  t.teardown(() => transport.close());
  t.equal(transport.description, fifo);
  // A command is shaped like a response (tag, size, code): the echo is read back whole.
  t.equal((await transport.transmit(transientQuery)).toString('hex'), transientQuery.toString('hex'));
  await transport.close();
  await t.rejects(transport.transmit(transientQuery), { code: 'INTERNAL', message: `the connection to the TPM at ${fifo} is closed` });
});
