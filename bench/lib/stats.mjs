// Timer and summary statistics. All durations are milliseconds (floating point, from the monotonic clock).
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

/** Runs fn and returns [result, elapsed ms]. */
export async function timed(fn) {
  const t0 = now();
  const result = await fn();
  return [result, now() - t0];
}

/** Nearest-rank percentile of an array of numbers (p in 0..100). */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = (values) => percentile(values, 50);
export const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

export function summary(values) {
  return {
    n: values.length,
    min: Math.min(...values),
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: Math.max(...values),
    mean: mean(values),
  };
}

/** Rounds for the report: 3 significant digits, at most 3 decimals. */
export function round(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x;
  if (x === 0) return 0;
  const digits = Math.max(0, Math.min(3, 2 - Math.floor(Math.log10(Math.abs(x)))));
  return Number(x.toFixed(digits));
}
