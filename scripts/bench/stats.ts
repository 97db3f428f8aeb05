/** Summary of wall-time samples, in milliseconds. */
export interface WallSummary {
  readonly n: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Percentile by linear interpolation between closest ranks (the "R-7" rule numpy and
 * spreadsheets use), so p50 of an even count is the mean of the middle two, as medians are.
 */
export function percentile(sortedAscending: readonly number[], fraction: number): number {
  const count = sortedAscending.length;
  if (count === 0) return Number.NaN;
  const position = (count - 1) * fraction;
  const below = Math.floor(position);
  const above = Math.min(below + 1, count - 1);
  const low = sortedAscending[below] ?? Number.NaN;
  const high = sortedAscending[above] ?? Number.NaN;
  return low + (high - low) * (position - below);
}

export function summarize(samplesMs: readonly number[]): WallSummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    n: sorted.length,
    medianMs: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    meanMs: sorted.length === 0 ? Number.NaN : total / sorted.length,
    minMs: sorted[0] ?? Number.NaN,
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** 1234.5 -> "1,235"; below 100 keeps one decimal, below 10 two, so small figures stay readable. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatWall(summary: WallSummary): string {
  return `median ${formatNumber(summary.medianMs)} ms, p90 ${formatNumber(summary.p90Ms)} ms (n=${summary.n})`;
}

/** Rounds to 3 decimals for JSON, so files stay readable without losing microseconds. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
