import { SignerError } from '../../src/errors.js';
import type { Cleanup } from './cleanup.js';
import { firstLine, runToEnd } from './processes.js';
import type { Figure, SectionId } from './report.js';
import { formatNumber, formatWall, round3 } from './stats.js';
import type { WallResult, WallTool } from './wall-time.js';
import { startBenchEmulator, type BenchEndpoint, type BenchPki } from './world.js';

/** What every section gets: the shared PKI, the cleanup, the wall-time tool and its bounds. */
export interface BenchContext {
  readonly cleanup: Cleanup;
  readonly wallTool: WallTool;
  /** Private temp dir of this run (removed at the end); sections make subdirectories. */
  readonly scratchDir: string;
  readonly pki: BenchPki;
  /** The CLI compiled beside this script (dist/ or .build/<name>/). */
  readonly cliPath: string;
  /** Directory of the compiled bench modules, for helper programs run as children. */
  readonly benchDir: string;
  readonly repoRoot: string;
  /** Runs and warm-up runs per whole-process measurement (runs >= 15 for a p90). */
  readonly runs: number;
  readonly warmup: number;
  /** Added to every CreateSession answer where a section puts the delay relay in front (--network-delay-ms). */
  readonly networkDelayMs: number;
  readonly progress: (line: string) => void;
}

export type SectionOutcome =
  | { readonly status: 'ran'; readonly figures: readonly Figure[]; readonly notes: readonly string[] }
  | { readonly status: 'skipped'; readonly reason: string };

export interface Section {
  readonly id: SectionId;
  readonly title: string;
  /** Rough duration on a 2-core machine, to skip a section the time budget cannot hold. */
  readonly estimateMs: number;
  run(context: BenchContext): Promise<SectionOutcome>;
}

/**
 * A fresh EC P-256 key file from the bench CA and an emulator trusting that CA: the key and
 * session flags of a credential-process or serve run against it.
 */
export async function fileKeyWorld(context: BenchContext, name: string): Promise<{ endpoint: BenchEndpoint; flags: string[] }> {
  const endpoint = await startBenchEmulator([context.pki.root.certificatePem], context.cleanup);
  const identity = await context.pki.issueFileIdentity(name, 'EC-P256');
  return {
    endpoint,
    flags: [
      '--private-key', identity.keyPath,
      '--certificate', identity.certificatePath,
      '--intermediates', context.pki.intermediatePath,
      ...endpoint.sessionFlags,
    ],
  };
}

export function skipped(reason: string): SectionOutcome {
  return { status: 'skipped', reason };
}

/**
 * Runs `credential-process` once and checks it printed credential_process JSON, before any
 * timing: a benchmark of a command that fails would measure how fast it fails. The output holds
 * a secret key and is dropped here; only the CLI's stderr (secret-free) reaches messages.
 */
export async function checkCredentialProcess(context: BenchContext, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runToEnd(process.execPath, [context.cliPath, ...args], { env, timeoutMs: 60_000, cleanup: context.cleanup });
  if (result.code !== 0) {
    throw new SignerError('INTERNAL', `credential-process exited with ${result.code ?? result.signal}: ${firstLine(result.stderr)}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(result.stdout);
  } catch {
    throw new SignerError('INTERNAL', 'credential-process printed something that is not JSON');
  }
  const fields = document as Record<string, unknown>;
  if (fields['Version'] !== 1 || typeof fields['AccessKeyId'] !== 'string' || typeof fields['SecretAccessKey'] !== 'string' || typeof fields['Expiration'] !== 'string') {
    throw new SignerError('INTERNAL', 'credential-process printed JSON without Version 1, AccessKeyId, SecretAccessKey and Expiration');
  }
}

export interface WallFigureOptions {
  readonly note?: string;
  /** `node -e 0` of the same run: the figure then also says what our code costs beyond Node. */
  readonly baseline?: { readonly result: WallResult; readonly name: string };
}

export function wallFigure(id: string, label: string, result: WallResult, options: WallFigureOptions = {}): Figure {
  const { baseline } = options;
  const overMs = baseline === undefined ? undefined : result.summary.medianMs - baseline.result.summary.medianMs;
  // The ratio of medians is what the targets are written in (issue 8): it carries across machines better than ms.
  const ratio = baseline === undefined ? undefined : result.summary.medianMs / baseline.result.summary.medianMs;
  const note = [
    overMs === undefined || ratio === undefined ? undefined : `${ratio.toFixed(2)}x ${baseline?.name ?? ''} (median ${formatNumber(baseline?.result.summary.medianMs ?? Number.NaN)} ms), +${formatNumber(overMs)} ms`,
    options.note,
    result.cutShort ? 'time bound reached before all runs' : undefined,
  ].filter((part) => part !== undefined).join('; ');
  return {
    id,
    label,
    result: formatWall(result.summary),
    ...(note !== '' ? { note } : {}),
    data: {
      n: result.summary.n,
      medianMs: round3(result.summary.medianMs),
      p90Ms: round3(result.summary.p90Ms),
      meanMs: round3(result.summary.meanMs),
      minMs: round3(result.summary.minMs),
      maxMs: round3(result.summary.maxMs),
      ...(baseline !== undefined && overMs !== undefined ? { baselineMedianMs: round3(baseline.result.summary.medianMs), overBaselineMs: round3(overMs), ratioToBaseline: round3(ratio ?? Number.NaN) } : {}),
      samplesMs: result.samplesMs.map(round3),
    },
  };
}

export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
