/**
 * Latency and throughput figures from raw samples, computed the same way for the bench and the
 * load runner: exact percentiles by sorting (a run holds at most a few hundred thousand samples).
 */

export interface LoadFigures {
  /** Successful operations per second over the measured interval. */
  throughput: number;
  /** Operations attempted, and those answered as expected (2xx, or 409 where a conflict was meant). */
  requests: number;
  ok: number;
  errors: number;
  /** The errors by cause: the HTTP status answered ("503"), or what happened instead ("connection error"). */
  errorsBy: Record<string, number>;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of `values`, exact by sorting: the nearest rank, rounding
 * down (p50 of [1, 2, 3, 4] is 3). NaN when there are none. The one percentile every figure uses:
 * the bench, the load runner, the measurements and the tests.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sample recorder: latencies in ms, plus counts. */
export class LatencyRecorder {
  private samples: number[] = [];
  ok = 0;
  errors = 0;
  private readonly errorsBy: Record<string, number> = {};

  /** One answered request's latency. */
  latency(ms: number): void {
    this.samples.push(ms);
  }

  /**
   * One request's outcome: as expected, or not (wrong status, timeout, connection error).
   * `cause` names a failure for `errorsBy`: the status answered, or what happened. Default "error".
   */
  outcome(ok: boolean, cause = 'error'): void {
    if (ok) this.ok += 1;
    else {
      this.errors += 1;
      this.errorsBy[cause] = (this.errorsBy[cause] ?? 0) + 1;
    }
  }

  record(ms: number, ok: boolean, cause?: string): void {
    this.latency(ms);
    this.outcome(ok, cause);
  }

  figures(seconds: number): LoadFigures {
    return {
      throughput: this.ok / seconds,
      requests: this.ok + this.errors,
      ok: this.ok,
      errors: this.errors,
      errorsBy: { ...this.errorsBy },
      seconds,
      p50: percentile(this.samples, 50),
      p95: percentile(this.samples, 95),
      p99: percentile(this.samples, 99),
      max: percentile(this.samples, 100),
    };
  }
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** One row of the tables the bench and the runner print. */
export function figuresRow(label: string, f: LoadFigures, extra: Record<string, string | number> = {}) {
  return {
    run: label,
    'ops/s': Math.round(f.throughput),
    'p50 ms': fmt(f.p50),
    'p95 ms': fmt(f.p95),
    'p99 ms': fmt(f.p99),
    ok: f.ok,
    errors: f.errors,
    ...extra,
  };
}
