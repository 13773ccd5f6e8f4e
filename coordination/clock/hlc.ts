/**
 * Hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone: "Logical Physical Clocks and
 * Consistent Snapshots in Globally Distributed Databases", OPODIS 2014, Figure 5).
 *
 * A timestamp is (l, c): l is the largest physical time this host has heard of, c a counter that
 * orders events sharing the same l. If e happened before f (on one host, or through a message),
 * then hlc(e) < hlc(f), whatever the skew of the physical clocks; and l stays within the clock
 * skew of the physical time, so an HLC still reads like a wall-clock time.
 *
 * Rendered as a fixed-width string `<l: 15 digits>.<c: 5 digits>`, so string order is timestamp
 * order (etcd keys, JSON, the `X-HLC` header all sort correctly).
 */
import type { Clock } from './clock';

export interface HlcTimestamp {
  /** Physical part, ms since the epoch. */
  l: number;
  /** Logical part. */
  c: number;
}

/** The HTTP header hosts and clients use to carry an HLC timestamp between hosts. */
export const HLC_HEADER = 'x-hlc';

const MAX_COUNTER = 99_999;
const HLC_PATTERN = /^(\d{15})\.(\d{5})$/;

export function formatHlc({ l, c }: HlcTimestamp): string {
  return `${String(l).padStart(15, '0')}.${String(c).padStart(5, '0')}`;
}

/** Parses a rendered timestamp; undefined when `text` is not one. */
export function parseHlc(text: string | undefined): HlcTimestamp | undefined {
  const match = text === undefined ? null : HLC_PATTERN.exec(text);
  return match ? { l: Number(match[1]), c: Number(match[2]) } : undefined;
}

/** The smallest timestamp whose physical part is `ms`. */
export const hlcAt = (ms: number): string => formatHlc({ l: Math.floor(ms), c: 0 });

/** The latest of several rendered timestamps (string order is timestamp order); undefined for none. */
export function latestHlc(values: (string | undefined)[]): string | undefined {
  return values.reduce<string | undefined>((max, v) => (v && (!max || v > max) ? v : max), undefined);
}

export const compareHlc = (a: HlcTimestamp, b: HlcTimestamp): number => a.l - b.l || a.c - b.c;

export interface HybridClockOptions {
  /** The physical clock pt: the host's corrected clock. */
  clock: Clock;
  /**
   * The maximum offset, ms: the receive rule never moves l further than this ahead of pt. A
   * message whose l is beyond it is ignored (the receive counts as a local event) and counted in
   * `ignored`, as CockroachDB ignores (and logs) a remote timestamp beyond its `--max-offset`.
   * Default 500, the cluster's CLOCK_MAX_OFFSET_MS.
   */
  maxOffsetMs?: number;
}

/** Why a received timestamp was left out of the update. */
export type IgnoredReason = 'ahead' | 'malformed';

/** The largest l the rendering holds (15 digits), a safe integer. */
const MAX_L = 999_999_999_999_999;

export class HybridClock {
  private readonly clock: Clock;
  private readonly maxOffsetMs: number;
  private l = 0;
  private c = 0;
  private readonly listeners = new Set<(reason: IgnoredReason) => void>();
  /** Received timestamps left out of the update, by reason. */
  readonly ignored: Record<IgnoredReason, number> = { ahead: 0, malformed: 0 };

  constructor({ clock, maxOffsetMs = 500 }: HybridClockOptions) {
    this.clock = clock;
    this.maxOffsetMs = maxOffsetMs;
  }

  /** The latest timestamp issued or received, without advancing. */
  current(): string {
    return formatHlc({ l: this.l, c: this.c });
  }

  /** Calls `listener` each time a received timestamp is ignored; returns an unsubscribe. */
  onIgnored(listener: (reason: IgnoredReason) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Send or local event (Fig. 5, "Send or local event"):
   *   l' := l;  l := max(l', pt);  if l = l' then c := c + 1 else c := 0
   */
  tick(): string {
    const pt = this.physical();
    const l = Math.max(this.l, pt);
    return this.store(l, l === this.l ? this.c + 1 : 0);
  }

  /**
   * Receive event of message m (Fig. 5, "Receive event of message m"):
   *   l' := l;  l := max(l', l_m, pt)
   *   if l = l' = l_m then c := max(c, c_m) + 1
   *   else if l = l' then c := c + 1
   *   else if l = l_m then c := c_m + 1
   *   else c := 0
   * Returns the timestamp of the receive event. The new (l, c) is computed aside and stored only
   * once valid. A malformed `remote`, or one whose l would take the clock more than `maxOffsetMs`
   * ahead of pt, is ignored and counted, and the receive counts as a local event: so no message
   * can drag this clock, and through it the cluster, into the future, nor corrupt its state.
   */
  receive(remote: string | undefined): string {
    if (remote === undefined) return this.tick();
    const m = parseHlc(remote);
    if (!m) return this.ignore('malformed');
    const pt = this.physical();
    const l = Math.max(this.l, m.l, pt);
    let c: number;
    if (l === this.l && l === m.l) c = Math.max(this.c, m.c) + 1;
    else if (l === this.l) c = this.c + 1;
    else if (l === m.l) c = m.c + 1;
    else c = 0;
    const next = carry(l, c);
    // Only a message can move l ahead of pt; the bound is checked on the state it would leave.
    // It must lead pt by less than the maximum offset, leaving 1 ms for a later counter carry in
    // tick() (a forged c of 99,998 is one tick from one), so l never leads pt by more than it.
    if (next.l > this.l && next.l - pt >= this.maxOffsetMs) return this.ignore('ahead');
    return this.store(next.l, next.c);
  }

  private ignore(reason: IgnoredReason): string {
    this.ignored[reason] += 1;
    for (const listener of this.listeners) listener(reason);
    return this.tick();
  }

  private physical(): number {
    const pt = Math.floor(this.clock.now());
    if (!(Number.isSafeInteger(pt) && pt >= 0 && pt <= MAX_L))
      throw new RangeError(`physical clock reads ${pt}`);
    return pt;
  }

  /** Validates, then stores. Only an l past the rendering's 15 digits could fail (year 33658). */
  private store(l: number, c: number): string {
    const next = carry(l, c);
    if (next.l > MAX_L) throw new RangeError(`HLC l=${next.l} past the rendering's range`);
    this.l = next.l;
    this.c = next.c;
    return this.current();
  }
}

/**
 * c past the rendering's 5 digits: move l on by 1 ms and restart c. The order is kept ((l+1, 0) is
 * above every (l, c)), and l leads pt by one more millisecond, which only 100,000 events within
 * one millisecond can cause; the paper bounds c by the event rate over the clock skew (Thm. 3).
 */
function carry(l: number, c: number): HlcTimestamp {
  return c > MAX_COUNTER ? { l: l + 1, c: 0 } : { l, c };
}
