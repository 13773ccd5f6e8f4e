/**
 * The host side of the event log over the in-memory store (which passes the same contract as the
 * etcd one): batching, shipping marks, and the correction of events recorded before the host's
 * clock was first corrected.
 */
import { describe, expect, it } from 'vitest';
import { HostClock } from '../../coordination/clock/clock';
import { HybridClock, hlcAt } from '../../coordination/clock/hlc';
import { EventLog } from '../../coordination/events/event-log';
import { MemoryEventStore } from '../../coordination/events/event-store';
import { eventStoreContract } from '../contracts/event-store-contract';

eventStoreContract('memory', async () => new MemoryEventStore());

function host(offsetMs: number) {
  let t = 1_800_000_000_000;
  const clock = new HostClock({ source: () => t, offsetMs });
  const hlc = new HybridClock({ clock });
  const store = new MemoryEventStore();
  const log = new EventLog({ hostId: 'h1', clock, hlc, store, maxBatch: 2, holdUnsyncedMs: 10_000 });
  return {
    clock,
    hlc,
    store,
    log,
    advance: (ms: number) => {
      t += ms;
    },
    trueNow: () => t,
  };
}

describe('EventLog', () => {
  it("ships in batches of the store's own maxBatch when none is given (PostgreSQL takes thousands a statement)", async () => {
    let t = 1_800_000_000_000;
    const clock = new HostClock({ source: () => t });
    clock.adjust(0, 0, 'reference');
    const store = new (class extends MemoryEventStore {
      readonly maxBatch = 3;
      readonly sizes: number[] = [];
      override async append(...args: Parameters<MemoryEventStore['append']>) {
        this.sizes.push(args[1].length);
        return super.append(...args);
      }
    })();
    const log = new EventLog({ hostId: 'h1', clock, hlc: new HybridClock({ clock }), store });
    for (let i = 0; i < 7; i++) {
      t += 1;
      log.record('payment.received', { id: `p${i}` });
    }
    await log.flush();
    expect(store.sizes).toEqual([3, 3, 1]);
  });

  it('holds back events recorded before the first clock correction, then ships them with corrected times', async () => {
    const h = host(1500);
    const recordedAt = h.trueNow();
    h.log.record('payment.received', { id: 'p1' });
    await h.log.flush();
    expect(await h.store.readHost('h1', hlcAt(0), 10)).toEqual([]);
    h.advance(100);
    h.clock.adjust(-1500, 1, 'cristian'); // Cristian's answer: this clock is 1.5 s ahead
    await h.log.flush();
    const [shipped] = await h.store.readHost('h1', hlcAt(0), 10);
    expect(shipped).toMatchObject({ type: 'payment.received', recorrected: true });
    expect(Date.parse(shipped!.rawAt) - recordedAt).toBe(1500);
    expect(Date.parse(shipped!.at)).toBe(recordedAt); // raw and corrected both kept
  });

  it('ships in batches and writes a mark that covers exactly what was shipped', async () => {
    const h = host(0);
    h.clock.adjust(0, 0, 'reference');
    for (let i = 0; i < 5; i++) {
      h.advance(1);
      h.log.record('payment.received', { id: `p${i}` });
    }
    await h.log.flush();
    const events = await h.store.readHost('h1', hlcAt(0), 10);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    const [mark] = await h.store.marks();
    expect(mark!.hlc >= events.at(-1)!.hlc).toBe(true);
    expect(h.log.stats).toMatchObject({ recorded: 5, shipped: 5 });
  });

  it('ships unsynchronized events as they are after the hold period', async () => {
    const h = host(700);
    h.log.record('leader.changed', { from: '', to: 'h2' });
    h.advance(10_001);
    await h.log.flush();
    const [shipped] = await h.store.readHost('h1', hlcAt(0), 10);
    expect(shipped).toMatchObject({ recorrected: false });
    expect(shipped!.at).toBe(shipped!.rawAt);
  });

  it('retention: the sweep deletes what is older than the retention period, only on the host allowed to', async () => {
    let t = 1_800_000_000_000;
    const clock = new HostClock({ source: () => t });
    clock.adjust(0, 0, 'reference');
    const hlc = new HybridClock({ clock });
    const store = new MemoryEventStore();
    let leader = false;
    const log = new EventLog({
      hostId: 'h1',
      clock,
      hlc,
      store,
      retentionMs: 60_000,
      shouldTrim: () => leader,
    });
    log.record('payment.received', { id: 'old' });
    t += 120_000;
    log.record('payment.received', { id: 'new' });
    await log.flush();
    await log.trim();
    expect((await store.readHost('h1', hlcAt(0), 10)).map((e) => e.details.id)).toEqual(['old', 'new']);
    leader = true;
    await log.trim();
    expect((await store.readHost('h1', hlcAt(0), 10)).map((e) => e.details.id)).toEqual(['new']);
  });
});
