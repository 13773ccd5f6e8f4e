/**
 * Delayed delivery: three hosts' event streams arrive interleaved with random network delays
 * (each stream FIFO, as over one TCP connection); the reorder buffer must release one merged
 * stream in key order. A host cut off past the lateness bound is retired; what it sends later is
 * late, flagged and counted, never silently dropped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../coordination/events/reorder-buffer';

interface Item {
  source: string;
  key: string;
}

const key = (n: number) => String(n).padStart(6, '0');

describe('ReorderBuffer', () => {
  it('property: FIFO sources with arbitrary delays merge into one sorted stream, nothing late, nothing lost', () => {
    fc.assert(
      fc.property(
        // per source: increasing timestamps; per item: a network delay
        fc.array(
          fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 200 })), {
            maxLength: 30,
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (streams) => {
          const buffer = new ReorderBuffer<Item>({ key: (i) => i.key });
          const arrivals: { at: number; item: Item }[] = [];
          streams.forEach((stream, s) => {
            let t = 0;
            let arrivedAt = 0;
            for (const [gap, delay] of stream) {
              t += gap;
              arrivedAt = Math.max(arrivedAt, t + delay); // FIFO per source
              arrivals.push({ at: arrivedAt, item: { source: `h${s}`, key: key(t) } });
            }
            buffer.advance(`h${s}`, key(0)); // every source is known from the start
          });
          arrivals.sort((a, b) => a.at - b.at);
          const out: Item[] = [];
          for (const { item } of arrivals) {
            expect(buffer.push(item.source, item)).toBe('buffered');
            out.push(...buffer.release());
          }
          for (const s of streams.keys()) buffer.retire(`h${s}`); // end of input
          out.push(...buffer.release());
          const keys = out.map((i) => i.key);
          return (
            keys.length === arrivals.length &&
            keys.every((k, i) => i === 0 || keys[i - 1]! <= k) &&
            buffer.lateCount === 0
          );
        },
      ),
    );
  });

  it('holds events back until every active source has passed them', () => {
    const buffer = new ReorderBuffer<Item>({ key: (i) => i.key });
    buffer.push('a', { source: 'a', key: key(10) });
    buffer.push('b', { source: 'b', key: key(5) });
    expect(buffer.release().map((i) => i.key)).toEqual([key(5)]);
    expect(buffer.watermark()).toBe(key(5));
    expect(buffer.size).toBe(1);
    buffer.push('b', { source: 'b', key: key(12) });
    expect(buffer.release().map((i) => i.key)).toEqual([key(10)]);
  });

  it('a cut-off source is retired; its events delivered afterwards are late and counted', () => {
    const buffer = new ReorderBuffer<Item>({ key: (i) => i.key });
    buffer.push('a', { source: 'a', key: key(1) });
    buffer.push('cut', { source: 'cut', key: key(2) });
    buffer.push('a', { source: 'a', key: key(50) });
    expect(buffer.release().map((i) => i.key)).toEqual([key(1), key(2)]);
    buffer.retire('cut'); // silent past the lateness bound
    expect(buffer.release().map((i) => i.key)).toEqual([key(50)]);
    expect(buffer.push('cut', { source: 'cut', key: key(3) })).toBe('late');
    expect(buffer.lateCount).toBe(1);
    expect(buffer.release().map((i) => i.key)).toEqual([key(3)]);
  });
});
