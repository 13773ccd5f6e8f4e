/**
 * Clock synchronization between function hosts running in this process over real HTTP, each
 * with its own simulated skew; true time is Date.now(), so each corrected clock can be checked
 * against it directly. Convergence, readiness while out of bounds, master failover without a
 * jump, and causal order in the event log whatever the skew.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HLC_HEADER } from '../../coordination/clock/hlc';
import { readMergedEvents } from '../../coordination/events/event-query';
import { MemoryEventStore } from '../../coordination/events/event-store';
import type { ClusterEvent } from '../../coordination/events/event-types';
import { InProcessHosts } from '../../dev/cluster/in-process-hosts';
import { MemoryLedger } from '../../ledger/memory-ledger';

const SKEWED = [
  { id: 'h1', offsetMs: -2000, driftPpm: 200 },
  { id: 'h2', offsetMs: 0, driftPpm: -200 },
  { id: 'h3', offsetMs: 1500, driftPpm: 0 },
];

/** Every host synchronized, with its correction slewed in. */
const settled = (c: InProcessHosts) =>
  c.hosts.every((h) => h.clocks.hostClock.synced && Math.abs(h.clocks.hostClock.pendingMs()) < 1);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` holds, for at most `timeoutMs`. */
async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Worst pairwise offset over several instants (one instant can be lucky). */
function worstPairwise(cluster: InProcessHosts, samples = 20): Promise<number> {
  return (async () => {
    let worst = 0;
    for (let i = 0; i < samples; i++) {
      worst = Math.max(worst, cluster.maxPairwiseOffsetMs());
      await sleep(25);
    }
    return worst;
  })();
}

let cluster: InProcessHosts | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const tuning = {
  sync: { roundIntervalMs: 300, checkIntervalMs: 50 },
  events: { flushIntervalMs: 100, holdUnsyncedMs: 0 },
};

describe('clock synchronization (in-process hosts, real HTTP)', () => {
  it('converges three hosts at −2 s, 0, +1.5 s and ±200 ppm to within 5 ms of each other, checked against true time', async () => {
    cluster = await InProcessHosts.start({
      hosts: SKEWED,
      ledger: new MemoryLedger(),
      leaderId: 'h2',
      tuning,
    });
    const before = cluster.maxPairwiseOffsetMs();
    expect(before).toBeGreaterThan(3000);
    // Slewing at most 0.5 ms/ms, the 2 s correction needs 4 s of clock time.
    await eventually('corrections slewed in', () => settled(cluster!));
    await sleep(1000); // a few more rounds
    const worst = await worstPairwise(cluster);
    const errors = cluster.errorsAgainstTrueTime();
    console.log(
      `convergence: pairwise before ${before.toFixed(1)} ms, worst after ${worst.toFixed(3)} ms; vs true time ${errors
        .map((e) => `${e.id} ${e.errorMs.toFixed(3)} ms`)
        .join(', ')}; rounds ${cluster.host('h2').clocks.sync!.stats.rounds}`,
    );
    expect(worst).toBeLessThanOrEqual(5);
    // Berkeley is internal synchronization: the cluster agrees to within 5 ms, and its time stays close
    // to the master's, though the averaging lets it wander from true time by its measurement noise.
    for (const e of errors) expect(Math.abs(e.errorMs)).toBeLessThanOrEqual(10);
  });

  it('a host whose clock is out of bounds reports /ready 503 and refuses payments until it has slewed back', async () => {
    cluster = await InProcessHosts.start({
      hosts: [
        { id: 'h1', offsetMs: 0, driftPpm: 0 },
        { id: 'h2', offsetMs: 1500, driftPpm: 0 },
      ],
      ledger: new MemoryLedger(),
      tuning: { ...tuning, maxSlewRate: 0.5 },
    });
    const skewed = cluster.host('h2');
    await eventually('first sync of h2', () => skewed.clocks.hostClock.synced);
    const ready = await fetch(`${skewed.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('1');
    expect(await ready.json()).toMatchObject({ error: { code: 'unavailable' } });
    const refused = await fetch(`${skewed.url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.adminKey}` },
      body: JSON.stringify({ id: 'p-skew', payer: 'a', payee: 'b', amount: 1, currency: 'EUR' }),
    });
    expect(refused.status).toBe(503);
    await eventually(
      'h2 back within 500 ms',
      async () => (await fetch(`${skewed.url}/ready`)).status === 200,
    );
    expect(Math.abs(skewed.clocks.hostClock.pendingMs())).toBeLessThanOrEqual(500);
  });

  it('master failover: the leader dies, the new master takes over without a jump and sync continues', async () => {
    cluster = await InProcessHosts.start({
      hosts: SKEWED,
      ledger: new MemoryLedger(),
      eventStore: new MemoryEventStore(),
      leaderId: 'h2',
      tuning,
    });
    await eventually('converged', () => settled(cluster!));
    await sleep(600);
    const h1 = cluster.host('h1');
    const h3 = cluster.host('h3');
    const adjustments: number[] = [];
    for (const h of [h1, h3]) h.clocks.hostClock.onAdjust((a) => adjustments.push(a.deltaMs));
    const roundsBefore = h1.clocks.sync!.stats.rounds;
    await cluster.kill('h2');
    cluster.setLeader('h1');
    // Watch for a jump: sample both clocks until several rounds of the new master have run.
    let previous = [h1.clocks.hostClock.now(), h3.clocks.hostClock.now()];
    await eventually('new master ran 5 rounds', async () => {
      const now = [h1.clocks.hostClock.now(), h3.clocks.hostClock.now()];
      expect(now[0]! >= previous[0]! && now[1]! >= previous[1]!).toBe(true);
      previous = now;
      return h1.clocks.sync!.stats.rounds >= roundsBefore + 5;
    });
    const worst = await worstPairwise(cluster);
    const largestAdjustment = Math.max(...adjustments.map(Math.abs));
    console.log(
      `failover: largest adjustment after failover ${largestAdjustment.toFixed(3)} ms, pairwise ${worst.toFixed(3)} ms`,
    );
    expect(adjustments.length).toBeGreaterThan(0);
    expect(largestAdjustment).toBeLessThan(5);
    expect(worst).toBeLessThanOrEqual(5);
    for (const e of cluster.errorsAgainstTrueTime()) expect(Math.abs(e.errorMs)).toBeLessThanOrEqual(10);
    // The survivors logged the leader change and the failure.
    await h1.clocks.eventLog!.flush();
    const page = await readMergedEvents(h1.clocks.deps.eventStore!, {
      limit: 1000,
      nowMs: Date.now(),
      maxLatenessMs: 1,
    });
    const h1Events = page.events
      .filter((e) => e.host === 'h1')
      .map((e) => `${e.type}:${e.details.to ?? e.details.peer ?? ''}`);
    expect(h1Events).toContain('leader.changed:h1');
    expect(h1Events).toContain('failure.detected:h2');
  });
});

describe('causal order in the event log', () => {
  it('a payment on A, its replay on B and a query on C are ordered by HLC although their clocks are seconds apart', async () => {
    const eventStore = new MemoryEventStore();
    cluster = await InProcessHosts.start({
      hosts: [
        { id: 'A', offsetMs: 1500, driftPpm: 0 },
        { id: 'B', offsetMs: 0, driftPpm: 0 },
        { id: 'C', offsetMs: -2000, driftPpm: 0 },
      ],
      ledger: new MemoryLedger(),
      eventStore,
      syncEnabled: false, // no synchronization at all: the wall clocks stay 3.5 s apart
      // HLC orders the chain only for clocks within its maximum offset, which received timestamps
      // may not lead by (issue 15 §1; default 500 ms): set above the 3.5 s of this test.
      tuning: { ...tuning, hlc: { maxOffsetMs: 5000 } },
    });
    const body = JSON.stringify({
      id: 'p-causal',
      payer: 'alice',
      payee: 'bob',
      amount: 100,
      currency: 'EUR',
    });
    const adminKey = cluster.adminKey;
    const post = (url: string, hlc?: string) =>
      fetch(`${url}/payments`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${adminKey}`,
          ...(hlc ? { [HLC_HEADER]: hlc } : {}),
        },
        body,
      });
    const onA = await post(cluster.host('A').url);
    expect(onA.status).toBe(201);
    const committed = (await onA.json()) as { hlc: string; committedAt: string };
    const onB = await post(cluster.host('B').url, onA.headers.get(HLC_HEADER)!);
    expect(onB.status).toBe(200);
    expect(((await onB.json()) as { hlc: string }).hlc).toBe(committed.hlc); // the replay is the stored payment
    const onC = await fetch(`${cluster.host('C').url}/payments/p-causal`, {
      headers: { [HLC_HEADER]: onB.headers.get(HLC_HEADER)!, authorization: `Bearer ${cluster.adminKey}` },
    });
    expect(onC.status).toBe(200);
    // Events above the slowest clock's mark are held back until that clock passes them (≈3.5 s here).
    const chainTypes = ['payment.committed', 'payment.replayed', 'payment.queried'];
    let chain: ClusterEvent[] = [];
    await eventually('the chain to pass the watermark', async () => {
      const page = await readMergedEvents(eventStore, {
        limit: 1000,
        nowMs: Date.now(),
        maxLatenessMs: 60_000,
      });
      chain = page.events.filter((e) => e.details.id === 'p-causal' && chainTypes.includes(e.type));
      return chain.length === 3;
    });
    expect(chain.map((e) => `${e.type}@${e.host}`)).toEqual([
      'payment.committed@A',
      'payment.replayed@B',
      'payment.queried@C',
    ]);
    // Ordered by wall clock, the chain would run backwards: C's clock reads 3.5 s before A's.
    const at = (e: ClusterEvent) => Date.parse(e.at);
    expect(at(chain[2]!)).toBeLessThan(at(chain[0]!));
    expect(chain.map((e) => e.hlc)).toEqual([...chain.map((e) => e.hlc)].sort());
  });
});
