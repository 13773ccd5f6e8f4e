/**
 * The etcd-lost decision (coordination/etcd/reachability-verdict.ts) with injected time.
 * Regression for the bad-input sweep's false 503 on a loaded machine: a host starved of CPU saw
 * its probe deadlines expire and declared etcd lost while etcd was healthy.
 */
import { describe, expect, it } from 'vitest';
import { ReachabilityVerdict } from '../../coordination/etcd/reachability-verdict';

const options = { lostAfterMs: 600, failedRoundsToLose: 2, lateToleranceMs: 100 };

describe('ReachabilityVerdict', () => {
  it('a host cut off from etcd: lost after two failed rounds and 600 ms without an answer', () => {
    const v = new ReachabilityVerdict(0, options);
    v.answered(0);
    expect(v.lost(500)).toBe(false);
    v.roundFailed(5); // the round started at 200 ms, its 400 ms deadline fired on time at 605
    expect(v.lost(605)).toBe(false); // one round is not enough
    v.roundFailed(3); // the round started at 400 ms, failed at 803
    expect(v.lost(803)).toBe(true);
  });

  it('K consecutive failures needed: silence alone, however long, is not enough', () => {
    const v = new ReachabilityVerdict(0, options);
    v.roundFailed(0);
    expect(v.lost(10_000)).toBe(false);
    v.roundFailed(0);
    expect(v.lost(10_000)).toBe(true);
  });

  it('K consecutive failures needed: an answer between failed rounds starts the count again', () => {
    const v = new ReachabilityVerdict(0, options);
    v.roundFailed(0);
    v.answered(700);
    v.roundFailed(0);
    expect(v.lost(2000)).toBe(false);
    v.roundFailed(0);
    expect(v.lost(2000)).toBe(true);
  });

  it('failed rounds are not enough before 600 ms without an answer', () => {
    const v = new ReachabilityVerdict(0, options);
    for (let i = 0; i < 5; i++) v.roundFailed(0); // e.g. connections refused at once
    expect(v.lost(550)).toBe(false);
    expect(v.lost(601)).toBe(true);
  });

  it('late timers do not count: rounds whose deadlines fired late are not failures', () => {
    const v = new ReachabilityVerdict(0, options);
    // The process was starved: each round's deadline fired 500 ms late, the answers unread.
    v.roundFailed(500);
    v.roundFailed(450);
    v.roundFailed(101);
    expect(v.lost(3000)).toBe(false);
    v.roundFailed(100); // within the tolerance: an on-time failure
    expect(v.lost(3000)).toBe(false);
    v.roundFailed(0);
    expect(v.lost(3000)).toBe(true);
  });

  it('late timers do not count: time the event loop stalled is not etcd silence', () => {
    const v = new ReachabilityVerdict(0, options);
    v.answered(0);
    v.timerLate(50); // ordinary jitter: counts as silence
    v.timerLate(700); // a 700 ms stall of this process
    v.roundFailed(0);
    v.roundFailed(0);
    expect(v.lost(1200)).toBe(false); // 1200 - 700 = 500 ms of real silence
    expect(v.lost(1301)).toBe(true);
  });

  it('any answer makes etcd reachable again at once, and forgets the stalls', () => {
    const v = new ReachabilityVerdict(0, options);
    v.roundFailed(0);
    v.roundFailed(0);
    expect(v.lost(1000)).toBe(true);
    v.answered(1000); // e.g. a commit of the main client succeeded
    expect(v.lost(1000)).toBe(false);
    v.timerLate(300);
    v.answered(1100);
    v.roundFailed(0);
    v.roundFailed(0);
    expect(v.lost(1701)).toBe(true); // the stall before the answer is not credited after it
  });
});
