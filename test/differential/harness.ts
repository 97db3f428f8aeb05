/**
 * Running the two programs side by side: the reference on the real clock, ours with its clock
 * frozen (libfaketime) at the second the reference signed, so that X-Amz-Date and everything
 * signed with it can be equal.
 */
import { spawn } from 'node:child_process';
import type { Test } from 'tap';
import { run, runCli, isolatedEnv, type RunResult } from '../helpers/cli.js';
import type { Rig } from '../helpers/emulator-rig.js';
import { cliPath } from '../helpers/paths.js';
import { startCaptureServer, headerValue, type CaptureServer, type CapturedRequest } from './capture.js';
import { resultRow, TABLE_REFERENCE_VERSION } from './results.js';
import { findLibfaketime, findReferenceHelper, frozenClockEnv, parseAmzDate, type ReferenceHelper } from '../../scripts/fixtures/reference-helper.js';

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

export interface CapturedPair {
  readonly reference: CapturedRequest;
  readonly ours: CapturedRequest;
  readonly referenceStdout: string;
  readonly ourStdout: string;
}

export interface CaptureOptions {
  /** Added to both programs' environment. */
  readonly env?: Record<string, string>;
  /** Give the reference a pseudo-terminal (TPM keys). */
  readonly referenceOnTerminal?: boolean;
  /** Called between the two runs, e.g. to fix the answer ours will get. */
  readonly beforeOurs?: (capture: CaptureServer) => void;
}

/**
 * `credential-process` from the reference, then from ours with its clock frozen at the
 * reference's X-Amz-Date, both through one capture server in front of the rig's emulator, which
 * must accept both. undefined (after a failed assertion) when either sent nothing.
 */
export async function captureBoth(t: Test, sides: SideBySide, rig: Rig, args: readonly string[], options: CaptureOptions = {}): Promise<CapturedPair | undefined> {
  const capture = await startCaptureServer(rig.url);
  t.teardown(() => capture.close());
  const sessionFlags = ['--trust-anchor-arn', rig.trustAnchorArn, '--profile-arn', rig.profileArn, '--role-arn', rig.roleArn, '--endpoint', capture.url];
  const command = ['credential-process', ...args, ...sessionFlags];
  const env = options.env ?? {};
  const referenceRun = await (options.referenceOnTerminal === true ? runReferenceOnTerminal : runReference)(sides, command, env);
  assertSucceeded(t, sides.reference.version, referenceRun);
  const reference = capture.requests[0];
  if (reference === undefined) {
    t.fail('the reference sent no request');
    return undefined;
  }
  options.beforeOurs?.(capture);
  const ourRun = await runOursAt(sides, parseAmzDate(headerValue(reference, 'x-amz-date') ?? ''), command, env);
  assertSucceeded(t, 'ours', ourRun);
  const ours = capture.requests[1];
  if (ours === undefined) {
    t.fail('ours sent no request');
    return undefined;
  }
  t.equal(reference.upstreamStatus, 201, `the emulator accepts the reference's request: ${reference.upstreamBody.slice(0, 200)}`);
  t.equal(ours.upstreamStatus, 201, `the emulator accepts our request: ${ours.upstreamBody.slice(0, 200)}`);
  return { reference, ours, referenceStdout: referenceRun.stdout, ourStdout: ourRun.stdout };
}

const ESSENTIALS = [
  'request:method', 'request:target', 'request:body',
  'header:host', 'header:content-type', 'header:content-length', 'header:x-amz-date', 'header:x-amz-x509', 'header:x-amz-x509-chain',
  'authorization:algorithm', 'authorization:credential',
];

/**
 * What must be identical with any reference version, then, with the version the table was made
 * with, exactly the differences results.ts declares for the row.
 */
export function assertRequestRow(t: Test, sides: SideBySide, rowId: string, observed: readonly string[]): void {
  for (const essential of ESSENTIALS) t.notOk(observed.includes(essential), `${essential} is identical`);
  if (sides.reference.version === TABLE_REFERENCE_VERSION) {
    t.same(observed, resultRow(rowId).differences, `exactly the differences results.ts declares for ${rowId}`);
  } else {
    t.comment(`reference ${sides.reference.version} differs from the table's ${TABLE_REFERENCE_VERSION}: observed ${observed.join(', ')}; update results.ts and regenerate docs/migration.md`);
  }
}
