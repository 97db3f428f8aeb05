/**
 * A TCP relay on 127.0.0.1 that holds each answer from upstream until a fixed delay has passed
 * since the request's first byte: the round trip of a real CreateSession (tens of milliseconds)
 * in front of the in-process emulator, which answers in about one. Bytes are passed unchanged,
 * so signatures still verify.
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Cleanup } from './cleanup.js';

export async function startDelayProxy(upstreamUrl: string, delayMs: number, cleanup: Cleanup): Promise<string> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const target = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(target);
    let requestStartedAt: number | undefined;
    // Answers are written in order: each chunk waits for the one before it.
    let lastWrite = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      requestStartedAt ??= Date.now();
      target.write(chunk);
    });
    target.on('data', (chunk: Buffer) => {
      const due = (requestStartedAt ?? Date.now()) + delayMs;
      lastWrite = lastWrite.then(
        () =>
          new Promise<void>((resolve) => {
            setTimeout(() => {
              if (!client.destroyed) client.write(chunk);
              // The next request on a kept-alive connection starts its own delay.
              requestStartedAt = undefined;
              resolve();
            }, Math.max(0, due - Date.now()));
          }),
      );
    });
    const closeBoth = (): void => {
      void lastWrite.then(() => {
        client.end();
        target.end();
      });
    };
    target.on('end', closeBoth);
    client.on('end', () => target.end());
    for (const socket of [client, target]) {
      socket.on('error', () => {
        client.destroy();
        target.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.defer('stop the delay proxy', async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
