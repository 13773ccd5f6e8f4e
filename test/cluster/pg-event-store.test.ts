/**
 * The cluster event log on a real PostgreSQL: the event store contract (with the merged read on
 * top), and a host's EventLog across a PostgreSQL outage: recording never waits, the buffer is
 * bounded and counts what it drops, and shipping resumes in order once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostClock } from '../../coordination/clock/clock';
import { HybridClock, hlcAt } from '../../coordination/clock/hlc';
import { EventLog } from '../../coordination/events/event-log';
import { PgEventStore } from '../../coordination/events/pg-event-store';
import { ArchiveUnavailableError } from '../../ledger/errors';
import { eventStoreContract } from '../contracts/event-store-contract';
import { startTestPostgres, type TestPostgres } from '../support/test-postgres';

let postgres: TestPostgres;
const stores: PgEventStore[] = [];
const open = async (url?: string) => {
  const store = new PgEventStore({ url: url ?? (await postgres.database()).host, connectTimeoutMs: 500 });
  stores.push(store);
  return store;
};

beforeAll(async () => {
  postgres = await startTestPostgres();
}, 60_000);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close().catch(() => {})));
  await postgres?.stop();
});

// A database per test: the contract uses fixed host names and times.
eventStoreContract('postgresql', () => open());

describe('EventLog over PostgreSQL', () => {
  it('while PostgreSQL is down: records without waiting, buffers a bounded number, counts drops, then ships in order', async () => {
    const store = await open();
    const clock = new HostClock({});
    clock.adjust(0, 0, 'reference');
    const hlc = new HybridClock({ clock });
    const log = new EventLog({ hostId: 'h1', clock, hlc, store, maxBatch: 50, maxPending: 300 });
    for (let i = 0; i < 10; i++) log.record('payment.committed', { id: `before-${i}` });
    await log.flush();

    await postgres.cluster.primary.stop();
    const started = performance.now();
    for (let i = 0; i < 400; i++) log.record('payment.committed', { id: `during-${i}` });
    expect(performance.now() - started).toBeLessThan(200); // recording is synchronous: no payment waits on it
    await expect(log.flush()).rejects.toBeInstanceOf(ArchiveUnavailableError);
    expect(log.stats).toMatchObject({ recorded: 410, shipped: 10, dropped: 100 });
    expect(log.stats.shipFailures).toBeGreaterThanOrEqual(1);

    await postgres.cluster.primary.start();
    await log.flush();
    const shipped = await store.readHost('h1', hlcAt(0), 1000);
    const ids = shipped.map((e) => e.details.id);
    // The oldest of the outage were dropped (bounded buffer); the rest arrive once, in HLC order.
    expect(ids).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 300 }, (_, i) => `during-${i + 100}`),
    ]);
    const [mark] = await store.marks();
    expect(mark!.hlc >= shipped.at(-1)!.hlc).toBe(true);
    expect(log.stats).toMatchObject({ shipped: 310, dropped: 100 });
  });
});
