import { spawn } from 'node:child_process';
import { cliPath } from './paths.js';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for child processes: no inherited AWS settings, no terminal, private dirs. */
export function isolatedEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('AWS_') || key.startsWith('ROLES_ANYWHERE_') || key === 'TPM2TOOLS_TCTI') continue;
    if (key.endsWith('_PROXY') || key.endsWith('_proxy')) continue;
    env[key] = value;
  }
  env['AWS_EC2_METADATA_DISABLED'] = 'true';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs a command to completion with no stdin (as credential_process and CI do). */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? isolatedEnv(),
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A new session: no controlling terminal, so /dev/tty cannot be opened, as under an SDK.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI compiled beside the tests. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [cliPath, ...args], options);
}
