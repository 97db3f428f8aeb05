/**
 * Running the two programs side by side: the reference on the real clock, ours with its clock
 * frozen (libfaketime) at the second the reference signed, so that X-Amz-Date and everything
 * signed with it can be equal.
 */
import { spawn } from 'node:child_process';
import type { Test } from 'tap';
import { run, runCli, isolatedEnv, type RunResult } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { findLibfaketime, findReferenceHelper, frozenClockEnv, type ReferenceHelper } from '../../scripts/fixtures/reference-helper.js';

export interface SideBySide {
  readonly reference: ReferenceHelper;
  readonly libfaketime: string;
}

/** The reference and libfaketime, or the reason the comparison cannot run here. */
export async function findSideBySide(): Promise<{ ok: true; value: SideBySide } | { ok: false; reason: string }> {
  const reference = await findReferenceHelper();
  if (!reference.ok) return reference;
  const libfaketime = findLibfaketime();
  if (!libfaketime.ok) return libfaketime;
  return { ok: true, value: { reference: reference.value, libfaketime: libfaketime.value } };
}

/** tap's skip option: false to run, or the reason shown in the report. */
export function skipUnless(found: { ok: true } | { ok: false; reason: string }): false | string {
  return found.ok ? false : found.reason;
}

export function runReference(sides: SideBySide, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return run(sides.reference.path, args, { env: isolatedEnv(extraEnv), timeoutMs: 60_000 });
}

/**
 * The reference with a controlling terminal (util-linux `script` gives it a pty). v1.5.0 opens
 * /dev/tty before every TPM signature, even for a key without a password, and fails without one.
 */
export function runReferenceOnTerminal(sides: SideBySide, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
  const command = [sides.reference.path, ...args].map(quote).join(' ');
  return run('script', ['-qec', command, '/dev/null'], { env: isolatedEnv(extraEnv), timeoutMs: 60_000 });
}

export function runOurs(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return runCli(args, { env: isolatedEnv(extraEnv), timeoutMs: 60_000 });
}

export function runOursAt(sides: SideBySide, at: Date, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return runOurs(args, { ...extraEnv, ...frozenClockEnv(sides.libfaketime, at) });
}

/** Asserts a run succeeded, showing stderr when it did not. */
export function assertSucceeded(t: Test, who: string, result: RunResult): void {
  t.equal(result.code, 0, `${who} exits 0${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
}

/** Our CLI's path, for runBytes. */
export const ourCli = cliPath;

/** Like run(), with stdout as bytes (sign-string --format bin). */
export function runBytes(command: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: isolatedEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(chunks), stderr });
    });
  });
}
