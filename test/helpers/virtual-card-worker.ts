import { createPrivateKey } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { createVirtualPivCard, type PivSlot, type PinPolicy, type VirtualPivCard } from './virtual-piv-card.js';

/**
 * Runs the virtual cards on their own thread. PKCS#11 calls such as C_OpenSession are
 * synchronous: while one waits for pcscd, the test's thread cannot answer a single APDU, so
 * the cards must live elsewhere. The test talks to them with messages (see vpcd-rig.ts).
 */
export interface SerializedCard {
  readonly serial: number;
  readonly pin: string;
  readonly slots: readonly { slot: PivSlot; pkcs8: Uint8Array; certificate: Uint8Array; pinPolicy?: PinPolicy }[];
}

export interface WorkerInput {
  readonly cards: readonly SerializedCard[];
  readonly port: number;
}

export type WorkerRequest =
  | { readonly id: number; readonly card: number; readonly op: 'log' }
  | { readonly id: number; readonly card: number; readonly op: 'pinTriesLeft' }
  | { readonly id: number; readonly card: number; readonly op: 'setTouchDelay'; readonly milliseconds: number }
  | { readonly id: number; readonly op: 'close' };

export type WorkerMessage =
  | { readonly kind: 'listening'; readonly port: number }
  | { readonly kind: 'listen-failed'; readonly message: string }
  | { readonly kind: 'connected'; readonly card: number }
  | { readonly kind: 'reply'; readonly id: number; readonly value: unknown };

/**
 * vpcd's framing: a 2-byte big-endian length, then either one control byte (0 power off,
 * 1 power on, 2 reset, 4 get ATR) or a command APDU. Only ATR and APDUs get an answer.
 */
function serveCard(card: VirtualPivCard, socket: Socket, onFirstMessage: () => void): void {
  socket.setNoDelay(true);
  let buffered: Buffer = Buffer.alloc(0);
  let queue: Promise<void> = Promise.resolve();
  const send = (payload: Buffer): void => {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(payload.length);
    socket.write(Buffer.concat([header, payload]));
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const message = Buffer.from(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      buffered = buffered.subarray(2 + message.length);
      onFirstMessage();
      queue = queue.then(async () => {
        if (message.length === 1) {
          if (message[0] === 4) send(card.atr);
          else card.reset();
          return;
        }
        send(await card.handle(message));
      });
    }
  });
  socket.on('error', () => {});
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('virtual-card-worker runs as a worker thread');
  const input = workerData as WorkerInput;
  const cards = input.cards.map((card) => createVirtualPivCard({
    serial: card.serial,
    pin: card.pin,
    slots: card.slots.map((slot) => ({
      slot: slot.slot,
      privateKey: createPrivateKey({ key: Buffer.from(slot.pkcs8), format: 'der', type: 'pkcs8' }),
      certificate: slot.certificate,
      ...(slot.pinPolicy !== undefined ? { pinPolicy: slot.pinPolicy } : {}),
    })),
  }));
  const sockets = new Set<Socket>();
  const servers = cards.map((card, index) => {
    let announced = false;
    return createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      serveCard(card, socket, () => {
        if (!announced) port.postMessage({ kind: 'connected', card: index } satisfies WorkerMessage);
        announced = true;
      });
    });
  });
  try {
    for (const [index, server] of servers.entries()) await listen(server, input.port + index);
  } catch (error) {
    for (const server of servers) server.close();
    port.postMessage({ kind: 'listen-failed', message: (error as Error).message } satisfies WorkerMessage);
    return;
  }
  port.postMessage({ kind: 'listening', port: input.port } satisfies WorkerMessage);

  port.on('message', (request: WorkerRequest) => {
    const reply = (value: unknown): void => port.postMessage({ kind: 'reply', id: request.id, value } satisfies WorkerMessage);
    if (request.op === 'close') {
      for (const socket of sockets) socket.destroy();
      Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))).then(() => {
        reply(undefined);
        port.close();
      }, () => port.close());
      return;
    }
    const card = cards[request.card];
    if (card === undefined) return reply(undefined);
    if (request.op === 'log') return reply(card.log);
    if (request.op === 'pinTriesLeft') return reply(card.pinTriesLeft());
    card.setTouchDelay(request.milliseconds);
    return reply(undefined);
  });
}

await main();
