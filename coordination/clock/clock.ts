/**
 * The host's clock: every timestamp a host produces comes from a Clock, never from Date.now()
 * directly, so that clock synchronization (and simulated skew in tests) has one place to act.
 *
 * `HostClock` is the per-host clock the synchronization protocols steer:
 *  - its raw reading simulates a skewed machine: true time + an injected offset + a drift in ppm,
 *    so three hosts on one box can disagree the way three machines would;
 *  - corrections (from Cristian's algorithm or a Berkeley round) are never stepped in: the clock
 *    slews towards its target correction at most `maxSlewRate` ms per ms, so a clock that is
 *    ahead runs slower for a while instead of jumping back, and `now()` never decreases;
 *  - it keeps an error bound: the error of the last synchronization (±RTT/2), plus what drift can
 *    have added since (`maxDriftPpm`), plus the part of the correction not yet slewed in.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as this host believes it to be. */
  now(): number;
}

/** The machine's own clock, uncorrected. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * The machine's clock with sub-millisecond resolution (Date.now() has 1 ms steps, as coarse as
 * the synchronization error being measured): the true time of the skew simulation.
 */
export const machineTime = (): number => performance.timeOrigin + performance.now();

/** ISO-8601 UTC rendering of a clock reading, the format stored in `committedAt`. */
export const isoTimestamp = (clock: Clock): string => new Date(clock.now()).toISOString();

/** Who changed the clock's correction. `reference`: this host became the time master. */
export type AdjustmentSource = 'cristian' | 'berkeley' | 'reference';

export interface ClockAdjustment {
  source: AdjustmentSource;
  /** Change of the target correction, ms (positive: the clock was behind). */
  deltaMs: number;
  /** Error of the measurement behind it, ±ms. */
  errorMs: number;
  /** Raw and corrected readings when the adjustment arrived. */
  rawMs: number;
  correctedMs: number;
}

export interface HostClockOptions {
  /** The reference the simulation skews. Default machineTime: on one machine, the system clock is true time. */
  source?: () => number;
  /** Simulated offset of this machine's clock, ms. Default 0. */
  offsetMs?: number;
  /** Simulated drift of this machine's clock, parts per million (200: gains 0.2 ms per s). Default 0. */
  driftPpm?: number;
  /** Largest rate at which a correction is slewed in, ms per ms of elapsed time. Default 0.5 (the clock runs at 0.5× to 1.5×). */
  maxSlewRate?: number;
  /** Drift the error bound assumes any clock may have, ppm. Default 500. */
  maxDriftPpm?: number;
}

export class HostClock implements Clock {
  private readonly source: () => number;
  private readonly offsetMs: number;
  private readonly driftPpm: number;
  private readonly maxSlewRate: number;
  /** Drift the error bound assumes, ppm. */
  readonly maxDriftPpm: number;
  private readonly origin: number;
  /** Correction the protocols asked for, and the part of it slewed in so far. */
  private targetMs = 0;
  private appliedMs = 0;
  private lastSlewRaw: number;
  private lastIssued = Number.NEGATIVE_INFINITY;
  private syncedAtRaw: number | undefined;
  private syncErrorMs = Number.POSITIVE_INFINITY;
  private readonly listeners = new Set<(adjustment: ClockAdjustment) => void>();

  constructor({
    source = machineTime,
    offsetMs = 0,
    driftPpm = 0,
    maxSlewRate = 0.5,
    maxDriftPpm = 500,
  }: HostClockOptions = {}) {
    if (!(maxSlewRate > 0 && maxSlewRate < 1))
      throw new RangeError('maxSlewRate must be in (0, 1), or the clock could stop or step');
    this.source = source;
    this.offsetMs = offsetMs;
    this.driftPpm = driftPpm;
    this.maxSlewRate = maxSlewRate;
    this.maxDriftPpm = maxDriftPpm;
    this.origin = source();
    this.lastSlewRaw = this.raw();
  }

  /** The simulated hardware clock: true time, skewed by the injected offset and drift. */
  raw(): number {
    const t = this.source();
    return t + this.offsetMs + ((t - this.origin) * this.driftPpm) / 1e6;
  }

  /** The corrected clock: monotonic (never decreases), slewing towards the target correction. */
  now(): number {
    const raw = this.slew();
    const reading = Math.max(raw + this.appliedMs, this.lastIssued);
    this.lastIssued = reading;
    return reading;
  }

  /**
   * Where the clock is heading: raw + the whole target correction. This is the host's best
   * estimate of cluster time, and what it reports to synchronization peers, so that a correction
   * still being slewed in is not measured (and corrected) a second time. Not monotonic.
   */
  targetNow(): number {
    return this.raw() + this.targetMs;
  }

  /** Best estimate of the cluster time at which an earlier raw reading was taken. */
  correctedFor(rawMs: number): number {
    return rawMs + this.targetMs;
  }

  /** Moves the target correction by `deltaMs`; the clock slews there. `errorMs` is the measurement's bound. */
  adjust(deltaMs: number, errorMs: number, source: AdjustmentSource): void {
    const raw = this.slew();
    this.targetMs += deltaMs;
    this.syncedAtRaw = raw;
    this.syncErrorMs = errorMs;
    const adjustment = { source, deltaMs, errorMs, rawMs: raw, correctedMs: raw + this.appliedMs };
    for (const listener of this.listeners) listener(adjustment);
  }

  /**
   * Adjusts by a measurement against the same reference as the previous ones (the NTP servers, or
   * a master disciplined by them). Both the new measurement (`deltaMs` ± `errorMs`) and what the
   * clock already knows (0 ± `estimateErrorMs()`: the last bound, grown by the drift allowance
   * since) hold the true correction, so it lies in their intersection: the target moves to its
   * midpoint and the bound is its half-width. A slow, loose sample thus cannot widen a tight bound
   * taken moments before, the reason NTP's clock filter keeps the least-dispersion sample of the
   * recent ones (RFC 5905 §10; Cristian 1989 keeps the fastest round trip). Disjoint intervals
   * mean one bound was wrong (a new reference, a clock stepped under us): the new one is taken.
   * Returns the delta applied. Not for internal agreement, whose time the master may move.
   */
  refine(deltaMs: number, errorMs: number, source: AdjustmentSource): number {
    const known = this.estimateErrorMs();
    const lo = Math.max(-known, deltaMs - errorMs);
    const hi = Math.min(known, deltaMs + errorMs);
    if (!(lo <= hi)) {
      this.adjust(deltaMs, errorMs, source);
      return deltaMs;
    }
    const applied = (lo + hi) / 2;
    this.adjust(applied, (hi - lo) / 2, source);
    return applied;
  }

  /** Calls `listener` after every adjustment; returns an unsubscribe. */
  onAdjust(listener: (adjustment: ClockAdjustment) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True once any synchronization (or becoming the reference) has set the clock. */
  get synced(): boolean {
    return this.syncedAtRaw !== undefined;
  }

  /** Correction still to be slewed in, ms (signed). */
  pendingMs(): number {
    this.slew();
    return this.targetMs - this.appliedMs;
  }

  /** Error of `targetNow()`: the last sync's ±RTT/2 plus the drift since. Infinite before any sync. */
  estimateErrorMs(): number {
    if (this.syncedAtRaw === undefined) return Number.POSITIVE_INFINITY;
    return this.syncErrorMs + (Math.abs(this.raw() - this.syncedAtRaw) * this.maxDriftPpm) / 1e6;
  }

  /** Error bound of `now()`: the estimate's error plus the correction not yet slewed in. */
  errorBoundMs(): number {
    return this.estimateErrorMs() + Math.abs(this.pendingMs());
  }

  /** Applies as much of the pending correction as the elapsed raw time allows; returns the raw reading. */
  private slew(): number {
    const raw = this.raw();
    const elapsed = raw - this.lastSlewRaw;
    if (elapsed > 0) {
      const pending = this.targetMs - this.appliedMs;
      const step = Math.min(Math.abs(pending), elapsed * this.maxSlewRate);
      this.appliedMs += Math.sign(pending) * step;
      this.lastSlewRaw = raw;
    }
    return raw;
  }
}
