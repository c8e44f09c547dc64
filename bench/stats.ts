/** Order statistics for benchmark samples. Pure: no clock, no I/O. */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Nearest-rank percentile (the smallest sample with at least p% of the samples at or below it),
 * so every reported value is a measured one. With fewer than 100 samples p99 is the maximum.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, not ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** The median: the mean of the two middle samples when the count is even. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) {
    return { n, min: NaN, median: NaN, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  }
  return {
    n,
    min: Math.min(...values),
    median: median(values),
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / n,
  };
}

/** ours / theirs, or undefined when either side is missing, not finite, or theirs is 0. */
export function ratio(ours: number | undefined, theirs: number | undefined): number | undefined {
  if (ours === undefined || theirs === undefined) return undefined;
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return undefined;
  return ours / theirs;
}
