import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { isolatedEnv, runToEnd } from './processes.js';

export interface MachineInfo {
  readonly cpuModel: string;
  /** Logical CPUs the OS reports. */
  readonly cores: number;
  /** What Node may use (cgroup/affinity limits applied). */
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly date: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine slows every figure. */
  readonly loadAverageAtStart: readonly number[];
  readonly gitCommit?: string;
  /** Modified or untracked (not ignored) files: the figures are for code that is not all in the commit. */
  readonly gitDirty?: boolean;
  /** Versions of the external programs a section used (only those installed). */
  readonly tools: Readonly<Record<string, string>>;
}

/** Read-only facts about the machine and the checkout; no hostname, no user names. */
export async function machineInfo(repoRoot: string, cleanup: Cleanup, now: Date): Promise<MachineInfo> {
  const cpuList = cpus();
  const tools: Record<string, string> = {};
  const probes: [string, string, string[]][] = [
    ['openssl', 'openssl', ['version']],
    ['softhsm2', 'softhsm2-util', ['--version']],
    ['swtpm', 'swtpm', ['--version']],
    ['hyperfine', 'hyperfine', ['--version']],
  ];
  for (const [name, command, args] of probes) {
    const version = await firstLineOf(command, args, cleanup);
    if (version !== undefined) tools[name] = version;
  }
  const autocannon = packageVersion(repoRoot, 'autocannon');
  if (autocannon !== undefined) tools['autocannon'] = autocannon;

  const commit = await firstLineOf('git', ['-C', repoRoot, 'rev-parse', '--short=12', 'HEAD'], cleanup);
  const status = commit === undefined ? undefined : await outputOf('git', ['-C', repoRoot, 'status', '--porcelain'], cleanup);
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()} ${arch()}`,
    node: process.version,
    date: now.toISOString(),
    loadAverageAtStart: roundedLoadAverage(),
    ...(commit !== undefined ? { gitCommit: commit } : {}),
    ...(status !== undefined ? { gitDirty: status.trim() !== '' } : {}),
    tools,
  };
}

async function outputOf(command: string, args: string[], cleanup: Cleanup): Promise<string | undefined> {
  try {
    // GIT_OPTIONAL_LOCKS=0: `git status` must not take index.lock while others commit.
    const result = await runToEnd(command, args, { env: isolatedEnv({ GIT_OPTIONAL_LOCKS: '0' }), timeoutMs: 10_000, cleanup });
    return result.code === 0 ? `${result.stdout}\n${result.stderr}` : undefined;
  } catch {
    return undefined;
  }
}

async function firstLineOf(command: string, args: string[], cleanup: Cleanup): Promise<string | undefined> {
  const output = await outputOf(command, args, cleanup);
  const line = output?.split('\n').find((candidate) => candidate.trim() !== '');
  return line?.trim();
}

function packageVersion(repoRoot: string, name: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

export function roundedLoadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}
