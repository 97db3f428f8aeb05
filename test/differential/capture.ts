/**
 * A capture server on 127.0.0.1 that sits in front of the emulator: it keeps the raw bytes of
 * every request exactly as a client wrote them, forwards the request to the emulator (which
 * verifies it like the service), and answers with the emulator's answer, or, when told, with a
 * fixed answer body, so that two clients can be given the very same credentials.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  /** Everything the client sent for this request, head and body. */
  readonly raw: Buffer;
  readonly method: string;
  readonly target: string;
  /** Header lines in the order and spelling the client wrote them. */
  readonly headerLines: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** What the emulator said before any replacement. */
  readonly upstreamStatus: number;
  readonly upstreamBody: string;
}

export interface CaptureServer {
  readonly url: string;
  readonly requests: readonly CapturedRequest[];
  /** Answer every accepted (201) request with this body instead of the emulator's. */
  fixAnswer(body: string | undefined): void;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 256 * 1024;
const FORWARD_TIMEOUT_MS = 15_000;

export async function startCaptureServer(upstreamUrl: string): Promise<CaptureServer> {
  const upstream = new URL(upstreamUrl);
  const requests: CapturedRequest[] = [];
  const sockets = new Set<Socket>();
  let fixedAnswer: string | undefined;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let handled = false;
    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_REQUEST_BYTES) {
        handled = true;
        socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const parsed = parseRequest(buffered);
      if (parsed === undefined) return;
      handled = true;
      forward(upstream, parsed)
        .then(({ status, contentType, body }) => {
          requests.push({ ...parsed, raw: buffered, upstreamStatus: status, upstreamBody: body });
          const answer = status === 201 && fixedAnswer !== undefined ? fixedAnswer : body;
          socket.end(
            `HTTP/1.1 ${status} ${status === 201 ? 'Created' : 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(answer)}\r\nConnection: close\r\n\r\n${answer}`,
          );
        })
        .catch(() => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fixAnswer(body) {
      fixedAnswer = body;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

type ParsedRequest = Omit<CapturedRequest, 'raw' | 'upstreamStatus' | 'upstreamBody'>;

/** One HTTP/1.1 request with a Content-Length body (what both clients send); undefined until complete. */
export function parseRequest(bytes: Buffer): ParsedRequest | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const [method = '', target = ''] = (lines[0] ?? '').split(' ');
  const headerLines = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const lengthHeader = headerLines.find(([name]) => name.toLowerCase() === 'content-length');
  const length = lengthHeader === undefined ? 0 : Number(lengthHeader[1]);
  if (headerLines.some(([name]) => name.toLowerCase() === 'transfer-encoding')) throw new Error('chunked requests are not expected from either client');
  if (bytes.length < headEnd + 4 + length) return undefined;
  return { method, target, headerLines, body: bytes.subarray(headEnd + 4, headEnd + 4 + length) };
}

function forward(upstream: URL, parsed: ParsedRequest): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of parsed.headerLines) headers[name] = value;
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: parsed.method, path: parsed.target, headers, timeout: FORWARD_TIMEOUT_MS },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({ status: incoming.statusCode ?? 0, contentType: String(incoming.headers['content-type'] ?? 'application/json'), body: Buffer.concat(chunks).toString('utf8') }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('emulator did not answer')));
    outgoing.on('error', reject);
    outgoing.end(parsed.body);
  });
}

/** Header value by case-insensitive name (the first one). */
export function headerValue(request: Pick<CapturedRequest, 'headerLines'>, name: string): string | undefined {
  return request.headerLines.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}
