import { describe, expect, it } from 'vitest';
import { statOf, statsByKey } from '../../dev/measure-stat';

describe('statOf (a figure measured several times)', () => {
  it('gives the middle sample of an odd count, with min, max and the samples in measured order', () => {
    expect(statOf([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, samples: [30, 10, 20] });
  });

  it('gives the mean of the two middle samples of an even count', () => {
    expect(statOf([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('leaves out samples that are not numbers (a row with no observations)', () => {
    expect(statOf([Number.NaN, 5, Number.POSITIVE_INFINITY])).toEqual({
      median: 5,
      min: 5,
      max: 5,
      samples: [5],
    });
  });

  it('is NaN throughout, with no samples, when nothing was measured', () => {
    const stat = statOf([]);
    expect(stat.samples).toEqual([]);
    expect([stat.median, stat.min, stat.max].every(Number.isNaN)).toBe(true);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    statOf(samples);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('statsByKey', () => {
  it('makes one Stat per process group, skipping a group a repeat did not measure', () => {
    const stats = statsByKey([
      { hosts: 300, 'etcd members': 200 },
      { hosts: 100, 'etcd members': 250, chrony: 1 },
      { hosts: 200, 'etcd members': 230 },
    ]);
    expect(stats.hosts).toEqual({ median: 200, min: 100, max: 300, samples: [300, 100, 200] });
    expect(stats['etcd members']!.median).toBe(230);
    expect(stats.chrony).toEqual({ median: 1, min: 1, max: 1, samples: [1] });
  });
});
