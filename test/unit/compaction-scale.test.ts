/**
 * The leader's compaction scaled to etcd's quota (coordination/cluster/compaction-scale.ts): the
 * maintenance interval from the quota's mark, and fewer revisions kept once the members' in-use
 * size passes half the mark. The fault it pins: under the fixed defaults (100 000 revisions, every
 * 30 s) superseded summary levels filled a 64 MiB quota to its mark in about 70 s (docs/storage.md).
 */
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_CHURN_BYTES_PER_S,
  DEFAULT_PRESSURE_KEEP_REVISIONS,
  keepRevisionsFor,
  MAX_MAINTENANCE_INTERVAL_MS,
  MIN_MAINTENANCE_INTERVAL_MS,
  maintenanceIntervalFor,
} from '../../coordination/cluster/compaction-scale';
import { DEFAULT_RETENTION_POLICY } from '../../coordination/cluster/ledger-maintenance';

const MiB = 1024 ** 2;
const GiB = 1024 * MiB;

describe('maintenance interval scaled to the quota', () => {
  it('small quota: default compaction let superseded summary levels fill a 64 MiB quota (interval under 5 s, not 30 s)', () => {
    const interval = maintenanceIntervalFor(64 * MiB, 0.9);
    expect(interval).toBeLessThan(5_000);
    // At the assumed churn, one interval writes at most an eighth of the mark.
    expect((interval / 1000) * ASSUMED_CHURN_BYTES_PER_S).toBeLessThanOrEqual((0.9 * 64 * MiB) / 8 + 1);
  });

  it('large quotas keep the 30 s period; tiny ones are bounded below by 1 s', () => {
    expect(maintenanceIntervalFor(8 * GiB, 0.9)).toBe(MAX_MAINTENANCE_INTERVAL_MS);
    expect(maintenanceIntervalFor(2 * GiB, 0.9)).toBe(MAX_MAINTENANCE_INTERVAL_MS);
    expect(maintenanceIntervalFor(1 * MiB, 0.9)).toBe(MIN_MAINTENANCE_INTERVAL_MS);
  });

  it('grows with the quota', () => {
    const sizes = [16, 32, 64, 128, 256].map((m) => maintenanceIntervalFor(m * MiB, 0.9));
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThanOrEqual(sizes[i - 1]!);
  });
});

describe('revisions kept under pressure', () => {
  const quota = { quotaBytes: 64 * MiB, highWaterRatio: 0.9 }; // mark 57.6 MiB, pressure 28.8 MiB

  it("keeps the policy's revisions while in use stays under half the mark", () => {
    expect(keepRevisionsFor(DEFAULT_RETENTION_POLICY, 20 * MiB, quota)).toBe(100_000);
  });

  it('small quota: past half the mark, keeps only the pressure revisions', () => {
    expect(keepRevisionsFor(DEFAULT_RETENTION_POLICY, 30 * MiB, quota)).toBe(DEFAULT_PRESSURE_KEEP_REVISIONS);
  });

  it("the operator's policy still bounds it from above", () => {
    const policy = { ...DEFAULT_RETENTION_POLICY, keepRevisions: 200 };
    expect(keepRevisionsFor(policy, 60 * MiB, quota)).toBe(200);
  });

  it("no member answered: the policy's, as before", () => {
    expect(keepRevisionsFor(DEFAULT_RETENTION_POLICY, undefined, quota)).toBe(100_000);
  });

  it('the same size is no pressure under the 8 GiB quota', () => {
    expect(
      keepRevisionsFor(DEFAULT_RETENTION_POLICY, 30 * MiB, { quotaBytes: 8 * GiB, highWaterRatio: 0.9 }),
    ).toBe(100_000);
  });
});
