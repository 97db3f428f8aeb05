import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import type { ApduRecord, VirtualPivCardOptions } from './virtual-piv-card.js';
import type { SerializedCard, WorkerInput, WorkerMessage, WorkerRequest } from './virtual-card-worker.js';

/**
 * Puts two virtual PIV cards behind a real PC/SC stack: a private pcscd whose only reader is
 * vsmartcard's vpcd, which connects to the cards on 127.0.0.1:port and port+1. The real
 * libykcs11.so and opensc-pkcs11.so then see "YubiKeys".
 *
 * pcscd's client socket is machine-wide, so one rig runs at a time: a lock directory in the
 * temp dir serializes test processes (and any other user of this helper). The cards run on a
 * worker thread (virtual-card-worker.ts): PKCS#11 calls block the test's own thread.
 */
export interface VirtualReaderRig {
  readonly port: number;
  readonly logFile: string;
  /** The cards, on the worker thread; each call is a message round trip. */
  readonly cards: readonly RemoteCard[];
  stop(): Promise<void>;
}

/** A virtual card seen from the test thread. */
export interface RemoteCard {
  readonly serial: number;
  log(): Promise<ApduRecord[]>;
  pinTriesLeft(): Promise<number>;
  setTouchDelay(milliseconds: number): Promise<void>;
}

const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
const LOCK_DIR = join(tmpdir(), 'roles-anywhere-signer-pcscd.lock');
const DRIVERS = ['/usr/lib/pcsc/drivers/serial/libifdvpcd.so', '/usr/lib64/pcsc/drivers/serial/libifdvpcd.so', '/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so'];

/** Why the rig cannot run here (a reason for t.skip), or undefined when it can. */
export async function whyVirtualReaderUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'the vpcd rig needs Linux';
  if (!['/usr/sbin/pcscd', '/usr/local/sbin/pcscd', '/usr/bin/pcscd'].some((p) => existsSync(p))) return 'pcscd is not installed (apt-get install pcscd)';
  if (!DRIVERS.some((p) => existsSync(p))) return 'vsmartcard\'s vpcd driver is not installed (apt-get install vsmartcard-vpcd)';
  if (process.getuid?.() !== 0) return 'pcscd needs root to create /run/pcscd; run the tests as root (as CI does)';
  // A pcscd that is not one of ours (systemd's socket-activated one, typically) owns the socket.
  if (!(existsSync(LOCK_DIR) && lockHolderAlive()) && (await socketAnswers(PCSCD_SOCKET))) {
    return `a pcscd is already running on this machine (${PCSCD_SOCKET} answers): stop it (systemctl stop pcscd.socket pcscd) to run the virtual YubiKey tests`;
  }
  return undefined;
}

/** Keys travel to the worker as PKCS#8 DER. */
function serialize(card: VirtualPivCardOptions): SerializedCard {
  return {
    serial: card.serial,
    pin: card.pin,
    slots: card.slots.map((slot) => ({
      slot: slot.slot,
      pkcs8: new Uint8Array(slot.privateKey.export({ type: 'pkcs8', format: 'der' })),
      certificate: slot.certificate,
      ...(slot.pinPolicy !== undefined ? { pinPolicy: slot.pinPolicy } : {}),
    })),
  };
}

export async function startVirtualReader(cards: readonly [VirtualPivCardOptions, VirtualPivCardOptions]): Promise<VirtualReaderRig> {
  await acquireLock();
  const dir = await mkdtemp(join(tmpdir(), 'ras-vpcd-'));
  const logFile = join(dir, 'pcscd.log');
  let worker: Worker | undefined;
  let pcscd: ChildProcess | undefined;
  const killOnExit = (): void => {
    pcscd?.kill('SIGKILL');
  };
  try {
    if (await socketAnswers(PCSCD_SOCKET)) {
      throw new Error(`another pcscd is running (${PCSCD_SOCKET} answers): stop it (systemctl stop pcscd.socket pcscd) to run the virtual YubiKey tests`);
    }
    const started = await startWorker(cards.map(serialize));
    worker = started.worker;
    const rpc = started.rpc;
    // A file descriptor, not a pipe: pcscd may write after this process stops reading.
    const log = openSync(logFile, 'a');
    pcscd = spawn('bash', [join(repoRoot, 'scripts', 'fixtures', 'pcscd-vpcd.sh'), String(started.port), dir], { stdio: ['ignore', log, log] });
    closeSync(log);
    process.once('exit', killOnExit);
    const exited = new Promise<never>((_, reject) => pcscd?.once('exit', (code) => reject(new Error(`pcscd exited (${code})`))));
    exited.catch(() => {});
    await Promise.race([Promise.all(started.connected), exited, timeout(20_000, 'vpcd did not connect to the virtual cards within 20 s')]);
    await Promise.race([waitFor(() => existsSync(PCSCD_SOCKET), 10_000, `${PCSCD_SOCKET} did not appear`), exited]);
    const child = pcscd;
    const thread = worker;
    return {
      port: started.port,
      logFile,
      cards: cards.map((card, index) => ({
        serial: card.serial,
        log: () => rpc({ card: index, op: 'log' }) as Promise<ApduRecord[]>,
        pinTriesLeft: () => rpc({ card: index, op: 'pinTriesLeft' }) as Promise<number>,
        setTouchDelay: async (milliseconds) => {
          await rpc({ card: index, op: 'setTouchDelay', milliseconds });
        },
      })),
      async stop() {
        process.removeListener('exit', killOnExit);
        await stopProcess(child);
        await rpc({ op: 'close' });
        await thread.terminate();
        await rm(dir, { recursive: true, force: true });
        releaseLock();
      },
    };
  } catch (error) {
    process.removeListener('exit', killOnExit);
    if (pcscd !== undefined) await stopProcess(pcscd);
    await worker?.terminate();
    const logTail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
    await rm(dir, { recursive: true, force: true });
    releaseLock();
    throw new Error(`${(error as Error).message}${logTail === '' ? '' : ` (pcscd log: ${logTail})`}`, { cause: error });
  }
}

type Rpc = (request: DistributiveOmit<WorkerRequest, 'id'>) => Promise<unknown>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Starts the card thread on a free pair of ports (tries a few random ones). */
async function startWorker(cards: readonly SerializedCard[]): Promise<{ worker: Worker; port: number; connected: Promise<void>[]; rpc: Rpc }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const worker = new Worker(new URL('./virtual-card-worker.js', import.meta.url), { workerData: { cards, port } satisfies WorkerInput });
    const connected = cards.map(() => deferred());
    const pending = new Map<number, (value: unknown) => void>();
    let nextId = 1;
    const ready = new Promise<boolean>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.kind === 'listening') resolve(true);
        else if (message.kind === 'listen-failed') resolve(false);
        else if (message.kind === 'connected') connected[message.card]?.resolve();
        else pending.get(message.id)?.(message.value);
      });
      worker.once('error', reject);
    });
    if (!(await ready)) {
      await worker.terminate();
      continue;
    }
    const rpc: Rpc = (request) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, (value) => {
        pending.delete(id);
        resolve(value);
      });
      worker.postMessage({ ...request, id });
    });
    return { worker, port, connected: connected.map((d) => d.promise), rpc };
  }
  throw new Error('no free pair of ports on 127.0.0.1 for the virtual cards');
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(path)) {
      resolve(false);
      return;
    }
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!lockHolderAlive()) {
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK_DIR} is held by another test process for more than 3 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function lockHolderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
  } catch {
    // created but the pid not written yet: give it a moment
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function releaseLock(): void {
  try {
    if (readFileSync(join(LOCK_DIR, 'pid'), 'utf8') === String(process.pid)) rmSync(LOCK_DIR, { recursive: true, force: true });
  } catch {
    // not ours, or already gone
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

async function waitFor(condition: () => boolean, ms: number, message: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Holds the machine-wide PC/SC lock without starting pcscd, for tests that need the smart-card
 * stack to be down; the returned function releases it. Undefined when some other pcscd (not a
 * rig's) answers, so the stack is not down here.
 */
export async function holdPcscStackDown(): Promise<(() => void) | undefined> {
  await acquireLock();
  if (await socketAnswers(PCSCD_SOCKET)) {
    releaseLock();
    return undefined;
  }
  return releaseLock;
}
