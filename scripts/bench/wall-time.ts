import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '../../src/errors.js';
import type { Cleanup } from './cleanup.js';
import { firstLine, isolatedEnv, runToEnd } from './processes.js';
import { summarize, type WallSummary } from './stats.js';

const SINGLE_RUN_TIMEOUT_MS = 60_000;

/** How whole-process wall times are taken: hyperfine when installed, else our own loop. */
export type WallTool = { readonly kind: 'hyperfine'; readonly version: string } | { readonly kind: 'spawn loop' };

export interface TimedCommand {
  /** Short name for tables and hyperfine's JSON. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

export interface WallTimingOptions {
  readonly tool: WallTool;
  readonly env: NodeJS.ProcessEnv;
  readonly runs: number;
  readonly warmup: number;
  /** Bound for the whole call: the loop starts no run after it (fewer samples), hyperfine is killed. */
  readonly timeoutMs: number;
  /** Removed before every run (warm-up runs too), untimed: a cold cache each time. */
  readonly removeBeforeEachRun?: string;
  /** Where hyperfine writes its JSON export. */
  readonly scratchDir: string;
  readonly cleanup: Cleanup;
}

export interface WallResult {
  readonly name: string;
  readonly samplesMs: readonly number[];
  readonly summary: WallSummary;
  /** Fewer runs than asked for, because the time bound came first. */
  readonly cutShort: boolean;
}

export async function detectWallTool(cleanup: Cleanup, forceLoop: boolean): Promise<WallTool> {
  if (forceLoop) return { kind: 'spawn loop' };
  try {
    const result = await runToEnd('hyperfine', ['--version'], { env: isolatedEnv(), timeoutMs: 10_000, cleanup });
    if (result.code === 0) return { kind: 'hyperfine', version: result.stdout.trim() };
  } catch {
    // not installed: the loop below does the same job
  }
  return { kind: 'spawn loop' };
}

export function describeWallTool(tool: WallTool): string {
  return tool.kind === 'hyperfine'
    ? `${tool.version} (-N: no shell; process start to exit)`
    : 'own spawn loop (child_process.spawn to exit, no shell)';
}

/** Wall time of whole processes; the own spawn loop interleaves the commands, hyperfine runs them in turn. */
export async function timeCommands(commands: readonly TimedCommand[], options: WallTimingOptions): Promise<WallResult[]> {
  return options.tool.kind === 'hyperfine' ? withHyperfine(commands, options) : withSpawnLoop(commands, options);
}

async function withHyperfine(commands: readonly TimedCommand[], options: WallTimingOptions): Promise<WallResult[]> {
  const exportPath = join(options.scratchDir, `hyperfine-${Date.now()}-${Math.floor(Math.random() * 1e6)}.json`);
  const args = [
    '-N',
    '--style', 'none',
    '--warmup', String(options.warmup),
    '--runs', String(options.runs),
    '--export-json', exportPath,
    ...(options.removeBeforeEachRun !== undefined ? ['--prepare', `rm -rf ${shellWord(options.removeBeforeEachRun)}`] : []),
    ...commands.flatMap((command) => ['-n', command.name, [command.command, ...command.args].map(shellWord).join(' ')]),
  ];
  const result = await runToEnd('hyperfine', args, { env: options.env, timeoutMs: options.timeoutMs, cleanup: options.cleanup });
  if (result.code !== 0) {
    throw new SignerError('INTERNAL', `hyperfine failed (exit ${result.code ?? result.signal}): ${firstLine(result.stderr)}`);
  }
  const parsed = JSON.parse(await readFile(exportPath, 'utf8')) as { results?: { command?: string; times?: number[] }[] };
  return commands.map((command, index) => {
    const times = parsed.results?.[index]?.times;
    if (times === undefined || times.length === 0) {
      throw new SignerError('INTERNAL', `hyperfine's JSON has no times for ${command.name}`);
    }
    const samplesMs = times.map((seconds) => seconds * 1000);
    return { name: command.name, samplesMs, summary: summarize(samplesMs), cutShort: false };
  });
}

/**
 * Interleaved: run k of every command, then run k+1 of every command, so a floor and the figures
 * set against it see the same load on a shared machine (a ratio of two medians taken minutes
 * apart says little when the load changes in between).
 */
async function withSpawnLoop(commands: readonly TimedCommand[], options: WallTimingOptions): Promise<WallResult[]> {
  const deadline = Date.now() + options.timeoutMs;
  const samples: number[][] = commands.map(() => []);
  for (let run = 0; run < options.warmup + options.runs && Date.now() < deadline; run++) {
    for (const [index, command] of commands.entries()) {
      if (options.removeBeforeEachRun !== undefined) rmSync(options.removeBeforeEachRun, { recursive: true, force: true });
      const finished = await runToEnd(command.command, command.args, {
        env: options.env,
        // A run that started before the deadline may finish; a hung one is stopped.
        timeoutMs: SINGLE_RUN_TIMEOUT_MS,
        cleanup: options.cleanup,
        captureStdout: false,
      });
      if (finished.code !== 0) {
        throw new SignerError('INTERNAL', `${command.name} exited with ${finished.code ?? finished.signal}: ${firstLine(finished.stderr)}`);
      }
      if (run >= options.warmup) samples[index]?.push(finished.elapsedMs);
    }
  }
  return commands.map((command, index) => {
    const samplesMs = samples[index] ?? [];
    if (samplesMs.length === 0) throw new SignerError('INTERNAL', `no timed run of ${command.name} fit in ${Math.round(options.timeoutMs / 1000)} s`);
    return { name: command.name, samplesMs, summary: summarize(samplesMs), cutShort: samplesMs.length < options.runs };
  });
}

/** Quotes for hyperfine's shell-words splitting (also used with -N): plain words stay bare. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
