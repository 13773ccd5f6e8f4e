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
   * A received l further ahead of our physical clock than this is refused (left out of the
   * update), so one host with a wild clock cannot drag every HLC into the future. Default 60 s.
   */
  maxForwardJumpMs?: number;
}

export class HybridClock {
  private readonly clock: Clock;
  private readonly maxForwardJumpMs: number;
  private l = 0;
  private c = 0;

  constructor({ clock, maxForwardJumpMs = 60_000 }: HybridClockOptions) {
    this.clock = clock;
    this.maxForwardJumpMs = maxForwardJumpMs;
  }

  /** The latest timestamp issued or received, without advancing. */
  current(): string {
    return formatHlc({ l: this.l, c: this.c });
  }

  /**
   * Send or local event (Fig. 5, "Send or local event"):
   *   l' := l;  l := max(l', pt);  if l = l' then c := c + 1 else c := 0
   */
  tick(): string {
    const pt = Math.floor(this.clock.now());
    const previous = this.l;
    this.l = Math.max(previous, pt);
    this.c = this.l === previous ? this.c + 1 : 0;
    this.checkCounter();
    return this.current();
  }

  /**
   * Receive event of message m (Fig. 5, "Receive event of message m"):
   *   l' := l;  l := max(l', l_m, pt)
   *   if l = l' = l_m then c := max(c, c_m) + 1
   *   else if l = l' then c := c + 1
   *   else if l = l_m then c := c_m + 1
   *   else c := 0
   * Returns the timestamp of the receive event. A malformed or implausibly far-ahead `remote`
   * is ignored, and the receive counts as a local event.
   */
  receive(remote: string | undefined): string {
    const m = parseHlc(remote);
    const pt = Math.floor(this.clock.now());
    if (!m || m.l - pt > this.maxForwardJumpMs) return this.tick();
    const previous = this.l;
    this.l = Math.max(previous, m.l, pt);
    if (this.l === previous && this.l === m.l) this.c = Math.max(this.c, m.c) + 1;
    else if (this.l === previous) this.c += 1;
    else if (this.l === m.l) this.c = m.c + 1;
    else this.c = 0;
    this.checkCounter();
    return this.current();
  }

  /** c is bounded in theory (by the skew over the event rate); past the rendering width, wait for pt to move. */
  private checkCounter(): void {
    if (this.c > MAX_COUNTER) throw new RangeError(`HLC counter overflow at l=${this.l}`);
  }
}
