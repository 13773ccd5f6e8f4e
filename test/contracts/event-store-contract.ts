/**
 * The event store contract, run against the etcd store (test/cluster/clock-sync-cluster.test.ts), the
 * PostgreSQL one (test/cluster/pg-event-store.test.ts) and the in-memory one
 * (test/unit/event-log.test.ts), together with the merged read on top of it.
 */
import { describe, expect, it } from 'vitest';
import { formatHlc, hlcAt } from '../../coordination/clock/hlc';
import { readMergedEvents } from '../../coordination/events/event-query';
import type { EventStore } from '../../coordination/events/event-store';
import type { ClusterEvent } from '../../coordination/events/event-types';

export type EventStoreFactory = () => Promise<EventStore>;

const T0 = 1_800_000_000_000;

export function event(host: string, seq: number, l: number, c = 0): ClusterEvent {
  const at = new Date(l).toISOString();
  return {
    host,
    seq,
    type: 'payment.received',
    hlc: formatHlc({ l, c }),
    at,
    rawAt: at,
    recorrected: false,
    details: { n: seq },
  };
}

const mark = (host: string, l: number, atMs = T0 + 10_000) => ({ host, hlc: formatHlc({ l, c: 0 }), atMs });

export function eventStoreContract(name: string, fresh: EventStoreFactory): void {
  describe(`event store contract: ${name}`, () => {
    it("stores each host's batches in HLC order and reads them from an HLC on", async () => {
      const store = await fresh();
      await store.append('h1', [event('h1', 0, T0 + 1), event('h1', 1, T0 + 5)], mark('h1', T0 + 5));
      await store.append('h1', [event('h1', 2, T0 + 9)], mark('h1', T0 + 9));
      expect((await store.readHost('h1', hlcAt(0), 10)).map((e) => e.seq)).toEqual([0, 1, 2]);
      expect((await store.readHost('h1', hlcAt(T0 + 5), 10)).map((e) => e.seq)).toEqual([1, 2]);
      expect((await store.readHost('h1', hlcAt(0), 2)).map((e) => e.seq)).toEqual([0, 1]);
      expect(await store.readHost('h2', hlcAt(0), 10)).toEqual([]);
      expect(await store.marks()).toEqual([mark('h1', T0 + 9)]);
    });

    it('trims events older than the retention bound and forgets hosts silent since', async () => {
      const store = await fresh();
      await store.append('h1', [event('h1', 0, T0), event('h1', 1, T0 + 100)], mark('h1', T0 + 100));
      await store.append('h2', [event('h2', 0, T0 + 10)], mark('h2', T0 + 10));
      await store.trimBefore(hlcAt(T0 + 50));
      expect((await store.readHost('h1', hlcAt(0), 10)).map((e) => e.seq)).toEqual([1]);
      expect(await store.readHost('h2', hlcAt(0), 10)).toEqual([]);
      expect((await store.marks()).map((m) => m.host)).toEqual(['h1']);
    });

    it('merged read: HLC order across hosts, paged by cursor, nothing above the watermark', async () => {
      const store = await fresh();
      await store.append(
        'h1',
        [event('h1', 0, T0 + 1), event('h1', 1, T0 + 4), event('h1', 2, T0 + 30)],
        mark('h1', T0 + 30, T0 + 28_000),
      );
      await store.append('h2', [event('h2', 0, T0 + 2), event('h2', 1, T0 + 3)], mark('h2', T0 + 20));
      const query = { limit: 3, nowMs: T0 + 10_000, maxLatenessMs: 5000 };
      const first = await readMergedEvents(store, query);
      expect(first.events.map((e) => `${e.host}:${e.seq}`)).toEqual(['h1:0', 'h2:0', 'h2:1']);
      const second = await readMergedEvents(store, { ...query, from: { cursor: first.next! } });
      // h1's event at +30 is above h2's mark (+20): h2 may still ship something before it.
      expect(second.events.map((e) => `${e.host}:${e.seq}`)).toEqual(['h1:1']);
      expect(second.heldBack).toBe(1);
      const third = await readMergedEvents(store, { ...query, from: { cursor: second.next! } });
      expect(third.events).toEqual([]);
      // Once h2's mark is stale it is not waited for any more.
      const later = await readMergedEvents(store, {
        ...query,
        from: { cursor: second.next! },
        nowMs: T0 + 30_000,
      });
      expect(later.events.map((e) => `${e.host}:${e.seq}`)).toEqual(['h1:2']);
      expect(later.staleHosts).toEqual(['h2']);
    });
  });
}
