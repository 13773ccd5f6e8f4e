/**
 * Resident memory of processes we started, read from /proc/<pid>/status (VmRSS), sampled on a
 * timer so a measurement or a test can state the most memory a host held under load.
 */
import { readFileSync } from 'node:fs';

/** Resident set size of `pid` in bytes, or NaN when it cannot be read (not running, no /proc). */
export function rssBytes(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface RssSampler {
  /** Largest RSS seen per process name since the last reset, bytes. */
  max(): Record<string, number>;
  reset(): void;
  stop(): void;
}

/** Samples each process's VmRSS every `intervalMs` (default 200), keeping the maximum per name. */
export function sampleRss(pids: Record<string, () => number | undefined>, intervalMs = 200): RssSampler {
  let max: Record<string, number> = {};
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const bytes = rssBytes(pid());
      if (Number.isFinite(bytes)) max[name] = Math.max(max[name] ?? 0, bytes);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    max: () => {
      sample();
      return { ...max };
    },
    reset: () => {
      max = {};
      sample();
    },
    stop: () => clearInterval(timer),
  };
}
