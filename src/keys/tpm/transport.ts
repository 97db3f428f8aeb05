import { open, type FileHandle } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { SignerError } from '../../errors.js';
import { TPM_HEADER_SIZE, TPM_MAX_RESPONSE_SIZE, TPM_ST } from './constants.js';
import { describeTarget, TPM_TCTI_ENV, type TpmTarget } from './tcti.js';

/**
 * Moves whole TPM commands and whole responses: a character device (/dev/tpmrm0, /dev/tpm0)
 * where one write is one command and one read one response, or a stream socket (swtpm's TCP
 * data port or UNIX socket) carrying raw command bytes, where the response is complete when
 * the size in its header has arrived. Commands are serialized: a TPM runs one at a time and
 * swtpm serves one client, so a second caller waits for the first answer.
 */
export interface TpmTransport {
  /** Where the TPM is, for messages, e.g. `swtpm 127.0.0.1:2321`. */
  readonly description: string;
  transmit(command: Uint8Array): Promise<Buffer>;
  close(): Promise<void>;
}

/** Timeouts of the socket transports; a character device times out in its kernel driver. */
export interface TransportOptions {
  /** How long one command may take. Real TPMs create RSA primaries in seconds, not minutes. */
  readonly responseTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

/**
 * The commands sent here (ECC storage primary, Load, Sign, FlushContext, ReadPublic) take
 * milliseconds on swtpm and at most a few seconds on slow discrete TPMs; a peer silent for
 * 30 s is not a TPM at work (a socket that accepts and never reads, an HTTP server waiting
 * for a request line) and a user waiting longer would think the tool hung.
 */
const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export async function openTransport(target: TpmTarget, options: TransportOptions = {}): Promise<TpmTransport> {
  if (target.kind === 'device') return DeviceTransport.open(target);
  return SocketTransport.open(target, options);
}

/** One caller at a time; a failed exchange does not block the next. */
class CommandQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function settingHint(target: TpmTarget): string {
  return target.origin === 'the default device' ? '' : ` (from ${target.origin})`;
}

class DeviceTransport implements TpmTransport {
  readonly description: string;
  readonly #file: FileHandle;
  readonly #queue = new CommandQueue();
  #closed = false;

  private constructor(file: FileHandle, description: string) {
    this.#file = file;
    this.description = description;
  }

  static async open(target: Extract<TpmTarget, { kind: 'device' }>): Promise<DeviceTransport> {
    try {
      return new DeviceTransport(await open(target.path, 'r+'), describeTarget(target));
    } catch (cause) {
      throw deviceOpenError(target, cause);
    }
  }

  transmit(command: Uint8Array): Promise<Buffer> {
    return this.#queue.run(async () => {
      if (this.#closed) throw new SignerError('INTERNAL', `the connection to the TPM at ${this.description} is closed`);
      try {
        const { bytesWritten } = await this.#file.write(command);
        if (bytesWritten !== command.length) {
          throw new SignerError('TPM_TRANSPORT_FAILED', `the TPM at ${this.description} took ${bytesWritten} of ${command.length} command bytes`);
        }
        const response = Buffer.alloc(TPM_MAX_RESPONSE_SIZE);
        let received = 0;
        // The driver hands over the whole response in one read; loop only in case it does not.
        for (;;) {
          const { bytesRead } = await this.#file.read(response, received, response.length - received, null);
          if (bytesRead === 0) throw new SignerError('TPM_TRANSPORT_FAILED', `the TPM at ${this.description} returned no response`);
          received += bytesRead;
          const expected = expectedResponseSize(response.subarray(0, received), this.description);
          if (expected !== undefined && received >= expected) return Buffer.from(response.subarray(0, expected));
        }
      } catch (cause) {
        if (cause instanceof SignerError) throw cause;
        const code = errnoOf(cause);
        throw new SignerError('TPM_TRANSPORT_FAILED', `talking to the TPM at ${this.description} failed (${code}): check the TPM driver (dmesg)`, { cause });
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.run(() => this.#file.close()).catch(() => undefined);
  }
}

export function deviceOpenError(target: Extract<TpmTarget, { kind: 'device' }>, cause: unknown): SignerError {
  const code = errnoOf(cause);
  const where = `${target.path}${settingHint(target)}`;
  switch (code) {
    case 'ENOENT':
    case 'ENXIO':
    case 'ENODEV':
      return new SignerError('TPM_UNAVAILABLE', `no TPM at ${where} (${code}): check that the machine has a TPM and its driver is loaded, or point ${TPM_TCTI_ENV} at another TPM`, { cause });
    case 'EACCES':
    case 'EPERM':
      return new SignerError('TPM_PERMISSION_DENIED', `permission denied opening ${where}: add your user to the group that owns it (usually tss: sudo usermod -aG tss $USER, then log in again)`, { cause });
    case 'EBUSY':
      return new SignerError('TPM_UNAVAILABLE', `${where} is in use by another program (a resource manager such as tpm2-abrmd holds it): use /dev/tpmrm0 instead`, { cause });
    default:
      return new SignerError('TPM_TRANSPORT_FAILED', `cannot open the TPM at ${where} (${code})`, { cause });
  }
}

class SocketTransport implements TpmTransport {
  readonly description: string;
  readonly #target: Extract<TpmTarget, { kind: 'tcp' | 'unix' }>;
  readonly #options: TransportOptions;
  readonly #queue = new CommandQueue();
  #socket: Socket | undefined;
  /** Connections that have answered a command: only those may have died unnoticed. */
  readonly #answered = new WeakSet<Socket>();
  /** Errors of a connection that died before a single response byte came back. */
  readonly #droppedBeforeAnswer = new WeakSet<SignerError>();
  #closed = false;
  #busy = false;

  private constructor(target: Extract<TpmTarget, { kind: 'tcp' | 'unix' }>, options: TransportOptions) {
    this.#target = target;
    this.#options = options;
    this.description = describeTarget(target);
  }

  static async open(target: Extract<TpmTarget, { kind: 'tcp' | 'unix' }>, options: TransportOptions): Promise<SocketTransport> {
    const transport = new SocketTransport(target, options);
    transport.#socket = await transport.#connect();
    return transport;
  }

  transmit(command: Uint8Array): Promise<Buffer> {
    return this.#queue.run(async () => {
      if (this.#closed) throw new SignerError('INTERNAL', `the connection to the TPM at ${this.description} is closed`);
      // A connection that dropped while idle (swtpm restarted) is re-opened: no command was lost.
      const socket = this.#socket;
      const reused = socket !== undefined && this.#answered.has(socket);
      this.#socket ??= await this.#connect();
      try {
        const response = await this.#exchange(this.#socket, command);
        this.#answered.add(this.#socket);
        return response;
      } catch (error) {
        // The drop may not have been noticed yet when the command went out on the old
        // connection (EPIPE, a close with no byte back): the TPM never saw it, so one fresh
        // connection is tried. A fresh connection that fails is reported as it is.
        if (!reused || !this.#droppedBeforeAnswer.has(error as SignerError)) throw error;
        this.#socket = await this.#connect();
        const response = await this.#exchange(this.#socket, command);
        this.#answered.add(this.#socket);
        return response;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.run(async () => {
      const socket = this.#socket;
      this.#socket = undefined;
      if (socket === undefined || socket.destroyed) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        // A peer that never closes its side must not keep us waiting.
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    });
  }

  #connect(): Promise<Socket> {
    const target = this.#target;
    const timeoutMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise<Socket>((resolve, reject) => {
      const socket = target.kind === 'tcp' ? connect({ host: target.host, port: target.port }) : connect({ path: target.path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SignerError('TPM_UNAVAILABLE', `the TPM at ${this.description}${settingHint(target)} did not accept a connection within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay?.(true);
        // Between commands nothing may arrive; a drop or stray bytes retire this connection.
        socket.on('error', () => this.#retire(socket));
        socket.on('close', () => this.#retire(socket));
        socket.on('data', () => {
          if (!this.#busy) this.#retire(socket);
        });
        resolve(socket);
      });
      socket.once('error', (cause) => {
        clearTimeout(timer);
        socket.destroy();
        reject(socketConnectError(target, this.description, cause));
      });
    });
  }

  #retire(socket: Socket): void {
    if (this.#socket === socket) this.#socket = undefined;
    socket.destroy();
  }

  #exchange(socket: Socket, command: Uint8Array): Promise<Buffer> {
    const timeoutMs = this.#options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const finish = (error: SignerError | undefined, response?: Buffer): void => {
        this.#busy = false;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
        if (error !== undefined) {
          this.#retire(socket);
          reject(error);
        } else if (response !== undefined) {
          resolve(response);
        }
      };
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        received += chunk.length;
        const response = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        let expected: number | undefined;
        try {
          expected = expectedResponseSize(response, this.description);
        } catch (error) {
          finish(error as SignerError);
          return;
        }
        if (expected === undefined || received < expected) return;
        if (received > expected) {
          finish(new SignerError('TPM_TRANSPORT_FAILED', `${this.description} sent ${received - expected} byte(s) more than its response holds: the other end does not speak the TPM 2.0 command protocol`));
          return;
        }
        finish(undefined, Buffer.from(response));
      };
      const dropped = (error: SignerError): SignerError => {
        if (received === 0) this.#droppedBeforeAnswer.add(error);
        return error;
      };
      const onClose = (): void =>
        finish(dropped(new SignerError('TPM_TRANSPORT_FAILED', `${this.description} closed the connection before answering: check that the TPM simulator is running and serves no other client`)));
      const onError = (cause: Error): void =>
        finish(dropped(new SignerError('TPM_TRANSPORT_FAILED', `the connection to ${this.description} failed (${errnoOf(cause)}) before the TPM answered`, { cause })));
      const timer = setTimeout(
        () => finish(new SignerError('TPM_TRANSPORT_FAILED', `${this.description} did not answer within ${timeoutMs / 1000} s: check that it is a TPM (swtpm's data port) and that no other program holds it`)),
        timeoutMs,
      );
      this.#busy = true;
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', onError);
      socket.write(command);
    });
  }
}

export function socketConnectError(target: Extract<TpmTarget, { kind: 'tcp' | 'unix' }>, description: string, cause: unknown): SignerError {
  const code = errnoOf(cause);
  const where = `${description}${settingHint(target)}`;
  switch (code) {
    case 'ECONNREFUSED':
      return new SignerError('TPM_UNAVAILABLE', `nothing accepts connections at ${where} (ECONNREFUSED): start the TPM simulator or fix the TCTI`, { cause });
    case 'ENOENT':
      return new SignerError('TPM_UNAVAILABLE', `the TPM socket ${target.kind === 'unix' ? target.path : description}${settingHint(target)} does not exist: start the TPM simulator or fix the path`, { cause });
    case 'EACCES':
    case 'EPERM':
      return new SignerError('TPM_PERMISSION_DENIED', `permission denied connecting to ${where}: check the socket's owner and mode`, { cause });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SignerError('TPM_UNAVAILABLE', `the host of ${where} cannot be resolved (${code}): fix the host= in the TCTI`, { cause });
    default:
      return new SignerError('TPM_UNAVAILABLE', `cannot connect to the TPM at ${where} (${code})`, { cause });
  }
}

/**
 * The response size from a header, once 6 bytes are in; undefined before. A size outside
 * what a TPM sends means the peer is something else (e.g. swtpm's control port, an HTTP server).
 */
function expectedResponseSize(received: Buffer, description: string): number | undefined {
  // The tag comes first: a peer sending "HTTP/1.1" is told apart after two bytes, not six.
  if (received.length >= 2) {
    const tag = received.readUInt16BE(0);
    if (tag !== TPM_ST.NO_SESSIONS && tag !== TPM_ST.SESSIONS) {
      throw new SignerError('TPM_TRANSPORT_FAILED', `${description} answered with something that is not a TPM 2.0 response (tag 0x${tag.toString(16).padStart(4, '0')}): check that it is a TPM (swtpm's data port, not its control port)`);
    }
  }
  if (received.length < 6) return undefined;
  const size = received.readUInt32BE(2);
  if (size < TPM_HEADER_SIZE || size > TPM_MAX_RESPONSE_SIZE) {
    throw new SignerError('TPM_TRANSPORT_FAILED', `${description} answered with something that is not a TPM 2.0 response (size field ${size}): check that it is a TPM (swtpm's data port, not its control port)`);
  }
  return size;
}

function errnoOf(cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}
