/**
 * How hard the leader's maintenance compacts (ledger-maintenance.ts), scaled to etcd's quota and
 * to what the members actually hold, so the defaults are safe for a small quota as for the 8 GiB
 * one the launcher sets by default.
 *
 * Why it must scale: ledger keys are deleted only by archival, and archival rewrites a bucket's
 * summary level (~8 KB) in each removal (ledger/archive/archived-ids.ts). Every superseded value
 * stays in etcd's MVCC history until compacted, so the space held by history is the write churn
 * times how long history is kept. The soak measured that churn at about 1 MiB/s at 120-150
 * payments/s with a seconds-long hot window (docs/storage.md): a 64 MiB quota filled to its mark
 * in ~70 s under the fixed defaults (100 000 revisions, every 30 s), while 8 GiB never noticed.
 *
 * Two rules, both derived from the quota and measured sizes, never from a guessed payment rate:
 *  - the interval: a pass at least every time `ASSUMED_CHURN_BYTES_PER_S` could write an eighth of
 *    the high-water mark, between 1 s and 30 s (64 MiB: ~3.6 s; 256 MiB and up: 30 s);
 *  - the pressure rule: while the largest member's in-use size (`dbSizeInUse`, what compaction
 *    can lower; its file size `dbSize` only grows until a defragmentation) is past half the mark,
 *    history is kept only `pressureKeepRevisions` revisions behind the head (default 200, a second
 *    or two of writes: enough for a history read's snapshot; a watcher further behind restarts from
 *    a fresh read), not the policy's `keepRevisions`. The policy still bounds it from above.
 *    Revisions are a poor measure of bytes (one archival removal is one revision of up to 1 MiB),
 *    so under pressure few are kept: a 64 MiB soak with 2 000 kept went past its quota.
 *
 * The same headroom argument as the quota guard's (quota-guard.ts): payments stop at the mark,
 * so compaction has to act well below it, while there is still room for its own record.
 */

/** Peak write churn assumed for the interval, bytes/s: the soak's measured ~1 MiB/s, doubled. */
export const ASSUMED_CHURN_BYTES_PER_S = 2 * 1024 * 1024;
/** Longest and shortest maintenance interval, ms. */
export const MAX_MAINTENANCE_INTERVAL_MS = 30_000;
export const MIN_MAINTENANCE_INTERVAL_MS = 1_000;
/** Past this fraction of the high-water mark (in use), compaction keeps only `pressureKeepRevisions`. */
export const DEFAULT_PRESSURE_RATIO = 0.5;
export const DEFAULT_PRESSURE_KEEP_REVISIONS = 200;

/** The maintenance interval for this quota and mark (ms): see the file header. */
export function maintenanceIntervalFor(quotaBytes: number, highWaterRatio: number): number {
  const ms = ((quotaBytes * highWaterRatio) / 8 / ASSUMED_CHURN_BYTES_PER_S) * 1000;
  return Math.round(Math.min(MAX_MAINTENANCE_INTERVAL_MS, Math.max(MIN_MAINTENANCE_INTERVAL_MS, ms)));
}

export interface CompactionPressureOptions {
  quotaBytes: number;
  highWaterRatio: number;
  /** Fraction of the mark past which compaction keeps only `pressureKeepRevisions`. Default 0.5. */
  pressureRatio?: number;
  /** Revisions kept under pressure. Default 1 000. */
  pressureKeepRevisions?: number;
}

/**
 * Revisions to keep behind the head this pass: the policy's, or fewer under pressure.
 * `inUseBytes` is the largest member's in-use size (its file size when it reports none), or
 * undefined when no member answered: then the policy's, as before scaling existed.
 */
export function keepRevisionsFor(
  // Only the policy's revision count: the RetentionPolicy of ledger-maintenance.ts, which imports this file.
  policy: { keepRevisions: number },
  inUseBytes: number | undefined,
  {
    quotaBytes,
    highWaterRatio,
    pressureRatio = DEFAULT_PRESSURE_RATIO,
    pressureKeepRevisions = DEFAULT_PRESSURE_KEEP_REVISIONS,
  }: CompactionPressureOptions,
): number {
  if (inUseBytes === undefined || inUseBytes < pressureRatio * highWaterRatio * quotaBytes)
    return policy.keepRevisions;
  return Math.min(policy.keepRevisions, pressureKeepRevisions);
}
