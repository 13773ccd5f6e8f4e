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
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Sample recorder: latencies in ms, plus counts. */
export class LatencyRecorder {
  private samples: number[] = [];
  ok = 0;
  errors = 0;

  /** One answered request's latency. */
  latency(ms: number): void {
    this.samples.push(ms);
  }

  /** One request's outcome: as expected, or not (wrong status, timeout, connection error). */
  outcome(ok: boolean): void {
    if (ok) this.ok += 1;
    else this.errors += 1;
  }

  record(ms: number, ok: boolean): void {
    this.latency(ms);
    this.outcome(ok);
  }

  figures(seconds: number): LoadFigures {
    const sorted = Float64Array.from(this.samples).sort();
    const at = (q: number) =>
      sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return {
      throughput: this.ok / seconds,
      requests: this.ok + this.errors,
      ok: this.ok,
      errors: this.errors,
      seconds,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
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
