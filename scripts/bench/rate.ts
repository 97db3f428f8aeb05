import type { Figure } from './report.js';
import { formatNumber, round3 } from './stats.js';

/** Every loop stops at whichever bound comes first. */
export interface RateBounds {
  readonly maxMs: number;
  readonly maxOperations: number;
  /** Untimed operations first (JIT, key caches, a TPM's loaded key). */
  readonly warmupOperations: number;
  /** Operations in flight at once (async only); 1 = one after another, as a CLI signs. */
  readonly concurrency?: number;
}

export interface RateResult {
  readonly operations: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly concurrency: number;
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function measureAsyncRate(operation: () => Promise<unknown>, bounds: RateBounds): Promise<RateResult> {
  for (let i = 0; i < bounds.warmupOperations; i++) await operation();
  const concurrency = Math.max(1, bounds.concurrency ?? 1);
  const started = nowMs();
  const deadline = started + bounds.maxMs;
  let issued = 0;
  let completed = 0;
  const worker = async (): Promise<void> => {
    while (issued < bounds.maxOperations && nowMs() < deadline) {
      issued++;
      await operation();
      completed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = nowMs() - started;
  return { operations: completed, elapsedMs, perSecond: (completed * 1000) / elapsedMs, concurrency };
}

export function measureSyncRate(operation: () => unknown, bounds: RateBounds): RateResult {
  for (let i = 0; i < bounds.warmupOperations; i++) operation();
  const started = nowMs();
  const deadline = started + bounds.maxMs;
  let completed = 0;
  while (completed < bounds.maxOperations && nowMs() < deadline) {
    operation();
    completed++;
  }
  const elapsedMs = nowMs() - started;
  return { operations: completed, elapsedMs, perSecond: (completed * 1000) / elapsedMs, concurrency: 1 };
}

export function formatRate(result: RateResult): string {
  const perOperationMs = (result.elapsedMs * result.concurrency) / result.operations;
  const each = perOperationMs < 1 ? `${formatNumber(perOperationMs * 1000)} µs` : `${formatNumber(perOperationMs)} ms`;
  const latency = result.concurrency === 1 ? `, ${each} each` : '';
  return `${formatNumber(result.perSecond)} /s${latency} (n=${result.operations})`;
}

export function rateData(result: RateResult): Record<string, number> {
  return {
    perSecond: round3(result.perSecond),
    operations: result.operations,
    elapsedMs: round3(result.elapsedMs),
    concurrency: result.concurrency,
  };
}

export function rateFigure(id: string, label: string, result: RateResult, note?: string): Figure {
  return { id, label, result: formatRate(result), ...(note !== undefined ? { note } : {}), data: rateData(result) };
}
