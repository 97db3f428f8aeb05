/**
 * The reference helper (aws/rolesanywhere-credential-helper) built from the Go module proxy into
 * a per-machine cache, outside the repository, once; and libfaketime to put our CLI at the
 * reference's clock. Used by the differential tests and by the bench.
 *
 * Versions are tried newest first, so the suite upgrades itself when the proxy starts serving a
 * newer one; a version the proxy refuses is remembered (a marker file) and not asked again for a
 * day. The first version that builds is used, and every output names it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Newest first. v1.6.0+ and the v1.5/v1.4 patch releases were refused by the proxy in 2026-12. */
export const REFERENCE_VERSIONS = ['v1.8.0', 'v1.7.1', 'v1.7.0', 'v1.6.1', 'v1.6.0', 'v1.5.2', 'v1.5.1', 'v1.5.0', 'v1.4.1', 'v1.4.0'] as const;
const MODULE = 'github.com/aws/rolesanywhere-credential-helper';
const BINARY = 'rolesanywhere-credential-helper';
const REFUSED_RETRY_MS = 24 * 3600_000;
const BUILD_TIMEOUT_MS = 8 * 60_000;

export interface ReferenceHelper {
  readonly version: string;
  readonly path: string;
}

export type Found<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function referenceCacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  return join(base, 'roles-anywhere-signer', 'reference');
}

function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeout: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() });
    });
  });
}

let pending: Promise<Found<ReferenceHelper>> | undefined;

/**
 * The newest reference helper that builds here, built on first use. Parallel test files may
 * race to build: `go install` writes its binary atomically, so the worst case is one wasted build.
 */
export function findReferenceHelper(): Promise<Found<ReferenceHelper>> {
  pending ??= locate();
  return pending;
}

async function locate(): Promise<Found<ReferenceHelper>> {
  const go = await exec('go', ['version'], process.env, 10_000);
  if (!go.ok) return { ok: false, reason: 'Go is not installed (the reference helper is built with `go install`); install Go 1.21 or newer to run the comparison' };
  const cache = referenceCacheDir();
  const refusals: string[] = [];
  for (const version of REFERENCE_VERSIONS) {
    const dir = join(cache, version);
    const path = join(dir, 'bin', BINARY);
    if (existsSync(path)) return { ok: true, value: { version, path } };
    const refusedMarker = join(dir, 'refused');
    if (existsSync(refusedMarker) && Date.now() - statSync(refusedMarker).mtimeMs < REFUSED_RETRY_MS) {
      refusals.push(`${version} refused`);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const env = { ...process.env, CGO_ENABLED: '1', GOBIN: join(dir, 'bin'), GOFLAGS: '-mod=mod' };
    const built = await exec('go', ['install', `${MODULE}@${version}`], env, BUILD_TIMEOUT_MS);
    if (built.ok && existsSync(path)) {
      rmSync(refusedMarker, { force: true });
      return { ok: true, value: { version, path } };
    }
    const lastLine = built.output.split('\n').filter((line) => line.trim() !== '').slice(-1)[0] ?? 'no output';
    writeFileSync(refusedMarker, `${new Date().toISOString()} ${built.output}\n`);
    refusals.push(`${version}: ${lastLine.slice(0, 160)}`);
  }
  return { ok: false, reason: `no version of the reference helper builds here (${refusals.join('; ')})` };
}

const FAKETIME_LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

/** Debian's libfaketime (package `faketime`), which can freeze our Node process's clock. */
export function findLibfaketime(): Found<string> {
  const path = FAKETIME_LIBRARIES.find((candidate) => existsSync(candidate));
  return path === undefined ? { ok: false, reason: 'libfaketime is missing: apt-get install faketime (scripts/ensure-deps.sh test does)' } : { ok: true, value: path };
}

/**
 * Environment additions that stop our process's wall clock at `at` (UTC). Go reads the clock
 * through the vDSO, not libc, so libfaketime cannot move the reference: instead the reference
 * runs on the real clock and ours is frozen at the second the reference signed.
 * The monotonic clock stays real so that Node's timers still fire.
 */
export function frozenClockEnv(library: string, at: Date): Record<string, string> {
  const stamp = at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
  return { LD_PRELOAD: library, FAKETIME: stamp, TZ: 'UTC', FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_DONT_RESET: '1' };
}

/** `20240706T113859Z` -> Date. */
export function parseAmzDate(value: string): Date {
  const match = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value);
  if (match === null) throw new Error(`not an X-Amz-Date: ${value}`);
  const [, year, month, day, hour, minute, second] = match;
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)));
}

/** For reports: which reference build a result came from. */
export function describeReference(reference: ReferenceHelper): string {
  return `aws/rolesanywhere-credential-helper ${reference.version}`;
}
