/**
 * Decides whether this host has lost etcd, from the evidence endpoint-health.ts gathers, with
 * time injected so the decision is tested deterministically (test/unit/reachability-verdict.test.ts).
 *
 * The hard part is not to mistake a starved host for a silent etcd. On a loaded machine this
 * process may not run for hundreds of ms; when it runs again, every probe's deadline timer has
 * expired before its answer, waiting in the socket, is read, and a plain "no answer for 600 ms"
 * rule answered clients 503 while etcd was fine (the bad-input sweep's false positive). So:
 *  - etcd is lost only after `failedRoundsToLose` probe rounds in a row got no answer from any
 *    member, AND no member answered for `lostAfterMs`;
 *  - a round whose own timers ran late (the event loop stalled during it by more than
 *    `lateToleranceMs`) says nothing about etcd and does not count, and time the event loop spent
 *    stalled is not counted as etcd's silence;
 *  - any answer resets both: a probe's, or any successful call of the host's main client.
 * A host really cut off from etcd still runs its timers on time, so it is declared lost after
 * `failedRoundsToLose` rounds and `lostAfterMs`, about 0.8 s with the defaults.
 */

export interface ReachabilityVerdictOptions {
  /** No member answered for this long (stalls of this process not counted), ms. Default 600. */
  lostAfterMs?: number;
  /** Consecutive probe rounds with no answer needed as well. Default 2. */
  failedRoundsToLose?: number;
  /** Timer lateness beyond which the event loop counts as stalled, ms. Default 100. */
  lateToleranceMs?: number;
}

export class ReachabilityVerdict {
  private readonly lostAfterMs: number;
  private readonly failedRoundsToLose: number;
  private readonly lateToleranceMs: number;
  private lastAnswer: number;
  /** Stalled time since the last answer: not etcd's silence. */
  private stalledMs = 0;
  private failedRounds = 0;

  constructor(
    now: number,
    { lostAfterMs = 600, failedRoundsToLose = 2, lateToleranceMs = 100 }: ReachabilityVerdictOptions = {},
  ) {
    this.lostAfterMs = lostAfterMs;
    this.failedRoundsToLose = failedRoundsToLose;
    this.lateToleranceMs = lateToleranceMs;
    this.lastAnswer = now;
  }

  /** A member answered (a probe, or any call of the main client). */
  answered(now: number): void {
    this.lastAnswer = Math.max(this.lastAnswer, now);
    this.stalledMs = 0;
    this.failedRounds = 0;
  }

  /** A timer of this process fired `lateMs` after it was due; beyond the tolerance, that is a stall. */
  timerLate(lateMs: number): void {
    if (lateMs > this.lateToleranceMs) this.stalledMs += lateMs;
  }

  /**
   * A probe round in which no member answered; `lateMs` is how late its own timers ran (its
   * deadline fired late, or the event loop stalled while it was out). A late round is not evidence.
   */
  roundFailed(lateMs: number): void {
    if (lateMs > this.lateToleranceMs) return;
    this.failedRounds++;
  }

  /** Whether etcd counts as lost at `now`. */
  lost(now: number): boolean {
    const silentMs = now - this.lastAnswer - this.stalledMs;
    return this.failedRounds >= this.failedRoundsToLose && silentMs > this.lostAfterMs;
  }
}
