/**
 * The one percentile function (loadtest/latency-stats.ts) that the bench, the load runner, the
 * measurements and the tests share: nearest rank, rounding down, on unsorted input.
 */
import { describe, expect, it } from 'vitest';
import { LatencyRecorder, percentile } from '../../loadtest/latency-stats';

describe('percentile', () => {
  it('takes the nearest rank, rounding down, of unsorted samples without reordering them', () => {
    const samples = [40, 10, 30, 20];
    expect(percentile(samples, 0)).toBe(10);
    expect(percentile(samples, 50)).toBe(30);
    expect(percentile(samples, 99)).toBe(40);
    expect(percentile(samples, 100)).toBe(40);
    expect(samples).toEqual([40, 10, 30, 20]);
  });

  it('is NaN without samples, and the recorder reports the same figures', () => {
    expect(percentile([], 50)).toBeNaN();
    const recorder = new LatencyRecorder();
    for (const ms of [5, 1, 4, 2, 3]) recorder.record(ms, true);
    expect(recorder.figures(1)).toMatchObject({ p50: 3, p99: 5, max: 5, ok: 5, throughput: 5 });
  });
});
