import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { SignerError } from '../../src/errors.js';
import type { Cleanup } from './cleanup.js';

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

export { isolatedEnv } from '../isolated-env.js';

/**
 * Runs a command to completion with no stdin, in a process group of its own (no controlling
 * terminal, as under an SDK; and killable as a whole). Killed after `timeoutMs`.
 */
export function runToEnd(
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; cleanup: Cleanup; captureStdout?: boolean },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env,
      // stdout is a pipe even when nobody keeps it: SDKs read credential_process through one,
      // and what a process pays to write to a pipe is part of its cost.
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const release = options.cleanup.defer(`stop ${command}`, () => killGroup(child));
    let stdout = '';
    let stderr = '';
    if (options.captureStdout === false) child.stdout.resume();
    else child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void killGroup(child);
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      void release();
      reject(new SignerError('INTERNAL', `cannot start ${command}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      clearTimeout(timer);
      void release();
      if (timedOut) {
        reject(new SignerError('INTERNAL', `${command} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was stopped`));
        return;
      }
      resolve({ code, signal, stdout, stderr, elapsedMs });
    });
  });
}

/** The first line of a child's stderr, for messages (our CLI's stderr never holds secrets). */
export function firstLine(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '');
  return line === undefined ? '(no output)' : line.trim().slice(0, 300);
}

/** SIGTERM to the whole group, SIGKILL if it is still there after a moment. */
export async function killGroup(child: ChildProcess, graceMs = 2000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(pid, 'SIGTERM');
  const outcome = await Promise.race([exited.then(() => 'exited' as const), delay(graceMs).then(() => 'late' as const)]);
  if (outcome === 'late') {
    signalGroup(pid, 'SIGKILL');
    await Promise.race([exited, delay(graceMs)]);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export interface BackgroundProcess {
  readonly pid: number;
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** The stderr seen so far (for messages when it fails to start). */
  stderr(): string;
  stop(): Promise<void>;
}

/** A long-running child (e.g. `serve`) in its own process group, stopped by the cleanup. */
export function startBackground(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cleanup: Cleanup }): BackgroundProcess {
  const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new SignerError('INTERNAL', `cannot start ${command}`);
  const stop = options.cleanup.defer(`stop ${command} (pid ${child.pid})`, () => killGroup(child));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 64 * 1024)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    pid: child.pid,
    stderr: () => stderr,
    stop,
    async waitForLine(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let gone = false;
      void exited.then(() => (gone = true));
      while (Date.now() < deadline) {
        const line = stdout.split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) return line;
        if (gone) throw new SignerError('INTERNAL', `${command} exited before it was ready: ${firstLine(stderr)}`);
        await delay(20);
      }
      throw new SignerError('INTERNAL', `${command} printed no line matching ${String(pattern)} within ${Math.round(timeoutMs / 1000)} s: ${firstLine(stderr)}`);
    },
  };
}
