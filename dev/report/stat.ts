/**
 * A figure measured several times (the report contract's Stat): its median, range and samples.
 * The report quotes every figure as `median (min–max)`, so a reader sees the spread of the runs
 * and not one lucky sample.
 */
import { z } from 'zod';
import { statOf } from '../measure-stat';

export const statSchema = z.object({
  median: z.number(),
  min: z.number(),
  max: z.number(),
  samples: z.array(z.number()),
});
export type Stat = z.infer<typeof statSchema>;

/**
 * The Stat of `samples` (dev/measure-stat.ts, as the measurement commands compute it); throws
 * when none is finite, since the report must not quote a figure nothing measured.
 */
export function stat(samples: number[]): Stat {
  const s = statOf(samples);
  if (s.samples.length === 0) throw new Error('a Stat needs at least one finite sample');
  return s;
}

/** A Stat computed from another by `f` sample by sample (e.g. a ratio of two interleaved rows). */
export function zipStat(a: Stat, b: Stat, f: (x: number, y: number) => number): Stat {
  const n = Math.min(a.samples.length, b.samples.length);
  return stat(Array.from({ length: n }, (_, i) => f(a.samples[i]!, b.samples[i]!)));
}

/** One number at a precision that suits its size: 2,643 · 41.3 · 0.77. */
export function formatNumber(x: number, digits?: number): string {
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** `median (min–max)`, e.g. `2,643 (2,410–2,700)`; a single sample says so (a quick run). */
export function formatStat(s: Stat, digits?: number, single = '1 run'): string {
  const d = digits ?? (Math.abs(s.median) >= 100 ? 0 : Math.abs(s.median) >= 10 ? 1 : 2);
  const median = formatNumber(s.median, d);
  if (s.samples.length < 2) return `${median} (${single})`;
  return `${median} (${formatNumber(s.min, d)}–${formatNumber(s.max, d)})`;
}
