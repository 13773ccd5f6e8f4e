/**
 * A figure measured several times, as `npm run report` reads it (dev/report/CONTRACT.md): its
 * median, min, max and every sample, so that a reader sees the spread and not one lucky run.
 * Samples that are not numbers (a row with no observations) are left out; with none left, the
 * figures are NaN (written as null in JSON).
 */
export interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

/** The Stat of `samples`; the median of an even count is the mean of the two middle values. */
export function statOf(samples: readonly number[]): Stat {
  const kept = samples.filter((s) => Number.isFinite(s));
  if (kept.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples: [] };
  const sorted = [...kept].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: kept };
}

/** One Stat per key, over records that each hold a number per key (missing keys are skipped). */
export function statsByKey(records: readonly Record<string, number>[]): Record<string, Stat> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((k) => [k, statOf(records.map((r) => r[k]).filter((v): v is number => v !== undefined))]),
  );
}
