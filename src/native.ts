import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignerError } from './errors.js';
import { loadAddonFile } from './native-file.js';

/**
 * The optional N-API addon built from native/ (see native/hardening.c). Everything here works
 * without it: callers get `{ reason }` instead of the addon and say what they could not enforce.
 */
export interface NativeAddon {
  /** IP_TTL / IPV6_UNICAST_HOPS on a socket; throws (code = errno name) when the kernel refuses. */
  setHopLimit(fd: number, hops: number): void;
  getHopLimit(fd: number): number;
  /** RLIMIT_CORE 0 and PR_SET_DUMPABLE 0; each flag says whether that step took effect. */
  disableCoreDumps(): { coreLimitZero: boolean; nonDumpable: boolean };
  /** What the kernel reports now: core limits (-1 = unlimited) and the dumpable flag (-1 = unknown). */
  processProtection(): { coreSoftLimit: number; coreHardLimit: number; dumpable: number };
  /** mlock; false when the memlock limit or privileges do not allow it. */
  lockMemory(buffer: ArrayBufferView): boolean;
  unlockMemory(buffer: ArrayBufferView): void;
}

export type NativeLoad = { readonly addon: NativeAddon } | { readonly addon?: undefined; readonly reason: string };

/** Set to 1 to run as if no addon were shipped or built (what users on other platforms without a compiler get). */
export const DISABLE_NATIVE_ENV = 'ROLES_ANYWHERE_NO_NATIVE';

/**
 * Finds the addon in the package root (the nearest parent of this file holding native/build or
 * prebuilds/): compiled at install or by `npm run build`, else the prebuilt linux-x64 binary.
 */
export function loadNativeAddon(env: Readonly<Record<string, string | undefined>> = process.env, startDir = dirname(fileURLToPath(import.meta.url))): NativeLoad {
  if (env[DISABLE_NATIVE_ENV] === '1') return { reason: `${DISABLE_NATIVE_ENV}=1 is set` };
  const loaded = loadAddonFile(startDir);
  return 'reason' in loaded ? { reason: loaded.reason } : { addon: loaded.exports as NativeAddon };
}

/** What long-running modes could and could not do to keep secrets out of dumps and swap. */
export interface HardeningReport {
  readonly enforced: readonly string[];
  readonly missing: readonly string[];
}

/**
 * Called once at the start of `serve` and `update`: those processes hold a logged-in token and
 * live credentials for hours, so a core dump or a same-user debugger must not be able to read
 * them. Irreversible for the process, which is the point.
 */
export function hardenProcess(load: NativeLoad): HardeningReport {
  if (load.addon === undefined) {
    return { enforced: [], missing: ['core dumps not disabled', 'process still dumpable (same-user ptrace, /proc/<pid>/mem)', 'secrets not locked in memory'] };
  }
  const result = load.addon.disableCoreDumps();
  const enforced: string[] = [];
  const missing: string[] = [];
  if (result.coreLimitZero) enforced.push('core dumps disabled (RLIMIT_CORE 0)');
  else missing.push('core dumps not disabled (setrlimit refused)');
  if (result.nonDumpable) enforced.push('process not dumpable (PR_SET_DUMPABLE 0)');
  else missing.push('process still dumpable (prctl refused or not Linux)');
  return { enforced, missing };
}

/**
 * mlock a secret buffer where permitted. Returns an unlock function (no-op when nothing was
 * locked) to call after the buffer is zeroed.
 */
export function lockSecret(load: NativeLoad, buffer: ArrayBufferView): { locked: boolean; unlock: () => void } {
  if (load.addon === undefined) return { locked: false, unlock: () => {} };
  const addon = load.addon;
  const locked = addon.lockMemory(buffer);
  return { locked, unlock: locked ? () => addon.unlockMemory(buffer) : () => {} };
}

/** The reference helper's default, which is also Linux's: nothing to enforce. */
export const DEFAULT_HOP_LIMIT = 64;

/**
 * Hardens the process before any key is opened (so a PIN never sits in a dumpable process) and
 * returns one warning line naming what could not be enforced, or undefined. A hop limit other
 * than the default cannot be honoured without the addon: that throws instead of warning.
 * `hopLimit` is given by `serve` only.
 */
export function hardenLongRunningProcess(load: NativeLoad, hopLimit?: number): string | undefined {
  if (hopLimit !== undefined) requireHopLimitSupport(load, hopLimit);
  const missing = [...hardenProcess(load).missing];
  if (load.addon === undefined && hopLimit !== undefined) missing.unshift('hop limit left at the system default');
  if (missing.length === 0) return undefined;
  const why = load.addon === undefined ? `native addon not loaded (${load.reason})` : 'hardening incomplete';
  return `warning: ${why}: ${missing.join(', ')}`;
}

/** Fails clearly, instead of silently serving with the system default, when a limit is asked for. */
export function requireHopLimitSupport(load: NativeLoad, hopLimit: number): void {
  if (load.addon === undefined && hopLimit !== DEFAULT_HOP_LIMIT) {
    throw new SignerError('HARDENING_UNAVAILABLE', `--hop-limit ${hopLimit} cannot be enforced: ${load.reason}`);
  }
}
