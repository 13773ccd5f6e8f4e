import { describe, expect, it } from 'vitest';
import {
  bucketDeltas,
  buckets,
  gaugeValue,
  histogramQuantile,
  parsePrometheusText,
  rowMetrics,
} from '../../dev/bench/etcd-metrics';

/** A histogram's exposition: cumulative counts per upper bound, with optional extra labels. */
function histogram(name: string, counts: [string, number][], labels = ''): string {
  return counts.map(([le, n]) => `${name}_bucket{${labels}le="${le}"} ${n}`).join('\n');
}

const FSYNC = 'etcd_disk_wal_fsync_duration_seconds';

describe('parsePrometheusText', () => {
  it('reads names, labels and values, and skips comments and blank lines', () => {
    const samples = parsePrometheusText(
      '# HELP x y\n# TYPE x counter\n\netcd_server_proposals_pending 3\n' +
        'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.0001"} 7\n',
    );
    expect(samples).toEqual([
      { name: 'etcd_server_proposals_pending', labels: {}, value: 3 },
      {
        name: 'etcd_network_peer_round_trip_time_seconds_bucket',
        labels: { To: '8e9e05c52164694d', le: '0.0001' },
        value: 7,
      },
    ]);
  });
});

describe('gaugeValue (the pending gauge, read during the row without parsing the rest)', () => {
  const text =
    '# HELP etcd_server_proposals_pending x\netcd_server_proposals_pending_other 9\netcd_server_proposals_pending 4\nlast 1';

  it('finds the unlabelled gauge by its whole name, not a longer name it prefixes', () => {
    expect(gaugeValue(text, 'etcd_server_proposals_pending')).toBe(4);
  });

  it('reads a gauge on the first and on the last line, and is NaN when absent', () => {
    expect(gaugeValue('first 2\nx 1', 'first')).toBe(2);
    expect(gaugeValue(text, 'last')).toBe(1);
    expect(gaugeValue(text, 'missing')).toBeNaN();
  });
});

describe('histogramQuantile (p99 from bucket deltas)', () => {
  it('interpolates linearly inside the bucket holding the rank', () => {
    // 100 observations: 50 up to 1 ms, 50 between 1 and 2 ms. Rank 99 is 49/50 into the second bucket.
    const cumulative = new Map([
      [0.001, 50],
      [0.002, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.99, cumulative)).toBeCloseTo(0.001 + 0.001 * (49 / 50), 12);
    expect(histogramQuantile(0.5, cumulative)).toBeCloseTo(0.001, 12);
  });

  it('takes 0 as the lower bound of the first bucket', () => {
    expect(histogramQuantile(0.5, new Map([[0.004, 10]]))).toBeCloseTo(0.002, 12);
  });

  it('answers the highest finite bound when the rank falls in +Inf', () => {
    const cumulative = new Map([
      [0.001, 10],
      [0.008, 90],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.99, cumulative)).toBe(0.008);
  });

  it('is NaN when nothing was observed', () => {
    expect(histogramQuantile(0.99, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeNaN();
  });

  it('counts only what happened during the row: the deltas, not the totals since start-up', () => {
    // Before the row: 1000 slow fsyncs (up to 1 s). During it: 100 fast ones (up to 1 ms).
    const before = buckets(
      parsePrometheusText(
        histogram(FSYNC, [
          ['0.001', 0],
          ['1', 1000],
          ['+Inf', 1000],
        ]),
      ),
      FSYNC,
    );
    const after = buckets(
      parsePrometheusText(
        histogram(FSYNC, [
          ['0.001', 100],
          ['1', 1100],
          ['+Inf', 1100],
        ]),
      ),
      FSYNC,
    );
    expect(histogramQuantile(0.99, bucketDeltas(before, after))).toBeLessThanOrEqual(0.001);
    expect(histogramQuantile(0.99, after)).toBeGreaterThan(0.5);
  });

  it('sums the series of every peer bucket by bucket', () => {
    const text = [
      histogram(
        'rtt',
        [
          ['0.001', 10],
          ['+Inf', 10],
        ],
        'To="a",',
      ),
      histogram(
        'rtt',
        [
          ['0.001', 5],
          ['+Inf', 15],
        ],
        'To="b",',
      ),
    ].join('\n');
    expect(buckets(parsePrometheusText(text), 'rtt')).toEqual(
      new Map([
        [0.001, 15],
        [Number.POSITIVE_INFINITY, 25],
      ]),
    );
  });
});

describe('rowMetrics', () => {
  it('sums the members’ fsync deltas, takes the most leader changes and commits any member saw, and sums failures', () => {
    const member = (fast: number, slow: number, leaders: number, committed: number, failed: number) =>
      parsePrometheusText(
        [
          histogram(FSYNC, [
            ['0.001', fast],
            ['0.01', fast + slow],
            ['+Inf', fast + slow],
          ]),
          `etcd_server_leader_changes_seen_total ${leaders}`,
          `etcd_server_proposals_committed_total ${committed}`,
          `etcd_server_proposals_failed_total ${failed}`,
        ].join('\n'),
      );
    const before = [member(0, 0, 1, 1000, 0), member(0, 0, 1, 990, 0)];
    const after = [member(100, 0, 2, 1500, 1), member(0, 100, 2, 1480, 2)];
    const row = rowMetrics(before, after, 7);
    // 100 under 1 ms, 100 between 1 and 10 ms (all on the second member): rank 198 of 200.
    expect(row.walFsyncP99Ms).toBeCloseTo(1 + 9 * (98 / 100), 9);
    expect(row.backendCommitP99Ms).toBeNaN();
    expect(row.leaderChanges).toBe(1);
    expect(row.proposalsCommitted).toBe(500);
    expect(row.proposalsFailed).toBe(3);
    expect(row.proposalsPendingMax).toBe(7);
  });
});
