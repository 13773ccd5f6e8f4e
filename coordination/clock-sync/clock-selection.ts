/**
 * Fault-tolerant selection of a time from several clocks, so that no single clock, and in
 * particular not whichever host happens to lead, decides the cluster's time (issue 16):
 *
 *  - Marzullo's intersection (K. Marzullo, "Maintaining the Time in a Distributed System", PhD
 *    thesis, Stanford, 1984; the core of NTP's selection algorithm, RFC 5905 §11.2.1): each source
 *    gives an interval that holds the true time if the source is correct; the true time lies
 *    where most intervals overlap. Used for the NTP servers the time master asks.
 *  - The fault-tolerant midpoint (J. Lundelius Welch, N. Lynch, "A New Fault-Tolerant Algorithm
 *    for Clock Synchronization", Information and Computation 77(1), 1988, §3 "fault-tolerant
 *    midpoint"): drop the f smallest and the f largest readings and take the midpoint of what is
 *    left. Used by Berkeley rounds when the master has no reference: every host's reading counts
 *    alike, the master's included.
 */

export interface SourceInterval {
  /** Lower and upper end of where the source says the true value lies. */
  lo: number;
  hi: number;
}

export interface Intersection {
  /** The part of the line covered by the most intervals. */
  lo: number;
  hi: number;
  /** Its midpoint: the selected value. */
  midpoint: number;
  /** How many sources agree (cover it), and which. */
  count: number;
  agreeing: boolean[];
}

/**
 * Marzullo's algorithm: the smallest interval consistent with the largest number of sources.
 * Sweeps the 2n interval ends in order (a start before an end at the same point, so intervals
 * that touch agree) keeping the running count; the best region starts where the count peaks and
 * ends at the next end. Returns undefined when fewer than `minAgreeing` sources agree.
 * @param [minAgreeing=⌊n/2⌋+1] the agreement required: by default a majority (RFC 5905's clique).
 */
export function marzullo(
  intervals: SourceInterval[],
  minAgreeing = Math.floor(intervals.length / 2) + 1,
): Intersection | undefined {
  if (intervals.length === 0) return undefined;
  const edges = intervals.flatMap(({ lo, hi }) => {
    if (!(lo <= hi)) throw new RangeError(`bad interval [${lo}, ${hi}]`);
    return [
      { at: lo, step: 1 },
      { at: hi, step: -1 },
    ];
  });
  edges.sort((a, b) => a.at - b.at || b.step - a.step);
  let count = 0;
  let best = 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < edges.length; i++) {
    const edge = edges[i]!;
    count += edge.step;
    if (count > best) {
      best = count;
      lo = edge.at;
      hi = edges[i + 1]!.at; // a start is always followed by at least its own end
    }
  }
  if (best < minAgreeing) return undefined;
  const agreeing = intervals.map((s) => s.lo <= hi && s.hi >= lo);
  return { lo, hi, midpoint: (lo + hi) / 2, count: best, agreeing };
}

export interface FaultTolerantMidpoint {
  midpoint: number;
  /** Readings inside the kept range (not among the f dropped at either end). */
  kept: boolean[];
  /** Faults tolerated: readings dropped at each end. */
  f: number;
}

/**
 * Welch and Lynch's fault-tolerant midpoint: reduce (drop the f lowest and f highest), then
 * mid (halfway between the extremes left).
 * @param [f=⌊(n−1)/2⌋] faults to tolerate. The default keeps at least one reading (the median
 *   for three hosts), so one far-off clock among three cannot move the result. Tolerating
 *   Byzantine (two-faced) clocks needs n ≥ 3f + 1, which three hosts cannot give for f = 1.
 */
export function faultTolerantMidpoint(
  values: number[],
  f = Math.floor((values.length - 1) / 2),
): FaultTolerantMidpoint {
  if (values.length === 0) throw new RangeError('no readings');
  if (!(f >= 0 && 2 * f < values.length))
    throw new RangeError(`cannot drop ${f} of ${values.length} at each end`);
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const left = order.slice(f, order.length - f);
  const kept = values.map(() => false);
  for (const r of left) kept[r.i] = true;
  return { midpoint: (left[0]!.v + left[left.length - 1]!.v) / 2, kept, f };
}

export interface OffsetEstimate {
  /** Estimated offset, ms. */
  offsetMs: number;
  /** The true offset lies within ± this, ms. */
  errorMs: number;
}

/**
 * Combines several samples of one source taken moments apart (each right within its own ±error:
 * Cristian's ±RTT/2) by Marzullo's intersection with every sample required to agree. Each sample
 * bounds the true offset from below by its return leg and from above by its outgoing leg, so the
 * intersection's half-width is half of (fastest outgoing leg + fastest return leg) over all the
 * samples, never more than the fastest round trip's, and tighter under jitter. Samples that do not
 * all intersect (a clock changed between them) fall back to the one with the smallest error.
 */
export function intersectSamples(samples: OffsetEstimate[]): OffsetEstimate {
  if (samples.length === 0) throw new RangeError('no samples');
  const all = marzullo(
    samples.map((s) => ({ lo: s.offsetMs - s.errorMs, hi: s.offsetMs + s.errorMs })),
    samples.length,
  );
  if (all) return { offsetMs: all.midpoint, errorMs: (all.hi - all.lo) / 2 };
  return samples.reduce((best, s) => (s.errorMs < best.errorMs ? s : best));
}
