import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cliPath } from '../helpers/paths.js';

/** A long-running CLI process (serve, update) and what it printed so far. */
export interface LongRunning {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout holds `count` complete lines (the exports) or the process ends. */
  lines(count: number, timeoutMs?: number): Promise<string[]>;
  /** Sends the signal and resolves with the exit code once the process has ended. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The exit code once the process ends by itself. */
  exited(): Promise<number | null>;
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv): LongRunning {
  return startProgram(process.execPath, [cliPath, ...args], env);
}

/** Any long-running program: the CLI of an installed package, the standalone executable. */
export function startProgram(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): LongRunning {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let finished = false;
  void ended.then(() => (finished = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async lines(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const complete = out.split('\n').slice(0, -1);
        if (complete.length >= count || finished) return complete;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} line(s); stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`);
        await Promise.race([once(child.stdout!, 'data'), ended, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
    },
    async stop(signal = 'SIGTERM') {
      if (!finished) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await ended;
      clearTimeout(timer);
      return code;
    },
    exited: () => ended,
  };
}
