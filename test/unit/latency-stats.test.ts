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

describe('LatencyRecorder', () => {
  it('failed-requests-unexplained: counts each failure under its cause (the status answered, or what happened)', () => {
    const recorder = new LatencyRecorder();
    recorder.record(5, true);
    recorder.record(7, false, '503');
    recorder.outcome(false, '503');
    recorder.outcome(false, 'connection error');
    recorder.outcome(false);
    const figures = recorder.figures(1);
    expect(figures.ok).toBe(1);
    expect(figures.errors).toBe(4);
    expect(figures.errorsBy).toEqual({ '503': 2, 'connection error': 1, error: 1 });
  });
});
