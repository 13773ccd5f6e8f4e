/**
 * The archived-id summary's Bloom filters (ledger/archive/archived-ids.ts): no false negatives,
 * a false-positive rate under 1 % however many levels a bucket grows, the stored form round-trips,
 * and the size per id is what the docs state.
 */
import { describe, expect, it } from 'vitest';
import {
  addIds,
  BUCKETS,
  bucketOf,
  decodeLevel,
  encodeLevel,
  LEVEL_CAPACITY,
  mayContain,
  type SummaryLevel,
} from '../../ledger/archive/archived-ids';

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('archived-id summary', () => {
  it('puts an id in one stable bucket, spread evenly', () => {
    expect(bucketOf('order-1')).toBe(bucketOf('order-1'));
    const counts = new Array(BUCKETS).fill(0);
    for (const id of ids('spread', 100 * BUCKETS)) counts[bucketOf(id)]++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
  });

  it('bucket-layout: keeps the stored layout, sha256(id) read as a big-endian uint32 mod 256', () => {
    // Values from createHash('sha256').update(id).digest().readUInt32BE(0) % 256, the layout's
    // first definition: summaries already in etcd depend on it.
    expect(bucketOf('order-1')).toBe(33);
    expect(bucketOf('pay-42')).toBe(129);
    expect(bucketOf('a')).toBe(18);
    expect(bucketOf('x'.repeat(128))).toBe(129);
  });

  it('spills into a new level when one is full, rewriting only the levels it changed', () => {
    const levels: SummaryLevel[] = [];
    expect(addIds(levels, ids('a', LEVEL_CAPACITY - 1))).toEqual([0]);
    expect(addIds(levels, ids('b', 2))).toEqual([0, 1]);
    expect(addIds(levels, ids('c', 5))).toEqual([1]);
    expect(levels.map((l) => l.ids)).toEqual([LEVEL_CAPACITY, 6]);
  });

  it('never forgets an added id, and keeps false positives under 1 % across 12 levels', () => {
    const levels: SummaryLevel[] = [];
    const added = ids('kept', 12 * LEVEL_CAPACITY);
    addIds(levels, added);
    expect(levels).toHaveLength(12);
    expect(added.every((id) => mayContain(levels, id))).toBe(true);
    const probes = ids('absent', 50_000);
    const falsePositives = probes.filter((id) => mayContain(levels, id)).length;
    expect(falsePositives / probes.length).toBeLessThan(0.01);
  });

  it('round-trips a level through its stored form, at about 2 bytes per id', () => {
    const levels: SummaryLevel[] = [];
    addIds(levels, ids('stored', LEVEL_CAPACITY));
    const bytes = encodeLevel(levels[0]!);
    expect(bytes.length / LEVEL_CAPACITY).toBeGreaterThan(1.9);
    expect(bytes.length / LEVEL_CAPACITY).toBeLessThan(2.1);
    const back = decodeLevel(bytes);
    expect(back.ids).toBe(LEVEL_CAPACITY);
    expect(ids('stored', LEVEL_CAPACITY).every((id) => back.filter.test(id))).toBe(true);
    expect(encodeLevel(back)).toEqual(bytes);
  });
});
