/**
 * The short soak (issue 14, §9) in `npm test`: dev/soak/run-soak.ts on a real cluster (three etcd
 * members with a 64 MiB quota, a PostgreSQL primary and synchronous standby, three hosts with a
 * 3 s hot window), at least 10,000 payments archived while a steady load runs, the leader killed
 * between an archival insert and its removal, PostgreSQL stopped for a while. Every check the
 * soak makes must hold: etcd under its quota, every acknowledged payment read back on every host
 * and in both accounts' histories exactly once, retries of archived payments replayed byte for
 * byte, new ids committed while PostgreSQL was down.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../dev/soak/run-soak';

const QUOTA = 64 * 1024 * 1024;

describe('short soak', () => {
  it('archives 10,000+ payments under load with a leader kill and a PostgreSQL outage; nothing lost, doubled or over quota', async () => {
    const report = await runSoak({
      durationMs: 110_000,
      stopAfterAcked: 10_300,
      rate: 170,
      quotaBytes: QUOTA,
      hotWindow: '3s',
      outageMs: 8000,
      retrySample: 1000,
      keepDir: process.env.KEEP_TEST_DIRS !== undefined,
      log: (line) => console.log(`[soak-short] ${line}`),
    });
    expect(report.violations).toEqual([]);
    expect(report.archived).toBeGreaterThanOrEqual(10_000);
    expect(report.maxDbBytes).toBeLessThan(QUOTA * 0.9);
    expect(report.leaderKill).toMatchObject({ afterInsert: true });
    expect(report.outage.committedDuring).toBeGreaterThan(0);
    expect(report.retriesAfter.replayed).toBeGreaterThanOrEqual(900);
    expect(report.retriesDuringRun.replayed).toBeGreaterThan(0);
    expect(report.readBack).toEqual({ reads: report.acknowledged * 3, failures: 0 });
  }, 300_000);
});
