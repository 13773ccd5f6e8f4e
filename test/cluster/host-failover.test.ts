/**
 * Function host faults on a real cluster (three etcd members, three host processes): a host
 * SIGKILLed under load, the leader host SIGKILLed, the leader host paused. Each test measures the
 * figure docs/fault-tolerance.md records and asserts the bound with slack for a busy machine.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentsClient } from '../../client/payments-client';
import type { TimeReading } from '../../coordination/clock-sync/time-peer';
import { clusterView, elapsedUntil, liveIds } from '../../dev/cluster/cluster-probe';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { longestGap, payerHistoryIds, sendPayments } from '../../loadtest/failover-load';
import { percentile } from '../../loadtest/latency-stats';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const TTL_MS = 2000;
/** The bound the issue sets (TTL + 1 s), plus slack for a 2-core machine shared with other work. */
const DETECTION_BOUND_MS = TTL_MS + 1000 + 1500;

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 3 });
  const h1 = cluster.fleet.hosts[0]!.url;
  await elapsedUntil(
    'all hosts registered and a leader',
    performance.now(),
    async () => {
      const view = await clusterView(h1);
      return liveIds(view).length === 3 && view.leader !== null;
    },
    30_000,
  );
});
afterAll(async () => {
  await cluster?.stop();
});

const hostOf = (id: string) => cluster.fleet.host(id);
const leaderId = async (url: string) => (await clusterView(url)).leader?.id;

/** As many as the issue asks for: a quarter go out before the kill, the rest across it. */
const PAYMENTS = 2000;

/**
 * A host's whole clock correction (cluster-time estimate minus its raw clock), from GET /time.
 * These hosts run unskewed on one machine, so corrections compare directly between hosts.
 */
async function clockCorrection(url: string): Promise<{ correctionMs: number; synced: boolean }> {
  const reading = (await (await fetch(`${url}/time`)).json()) as TimeReading;
  return { correctionMs: reading.time - reading.raw, synced: reading.synced };
}

describe('function host failover', () => {
  it('a host SIGKILLed while PaymentsClient sends 2,000 payments: each committed exactly once, no client failure', async () => {
    const prefix = `kill-${randomUUID().slice(0, 8)}`;
    const [h1, h2] = [hostOf('h1'), hostOf('h2')];
    const client = new PaymentsClient({
      discoverFrom: [h1.url],
      deadlineMs: 20_000,
      apiKey: cluster.adminKey,
    });
    await client.discover();
    expect(client.knownHosts()).toHaveLength(3);

    let killedAt = 0;
    let detection: Promise<number> | undefined;
    const result = await sendPayments(client, {
      count: PAYMENTS,
      prefix,
      onProgress: (done) => {
        if (done !== PAYMENTS / 4) return;
        killedAt = performance.now();
        void h2.process.kill();
        detection = elapsedUntil(
          'h2 to leave the live set',
          killedAt,
          async () => !liveIds(await clusterView(h1.url)).includes('h2'),
        );
      },
    });
    const detectedMs = await detection!;
    const kinds = result.outcomes.map((o) => o.kind);
    const failures = result.outcomes.filter((o) => o.kind !== 'committed' && o.kind !== 'replayed');
    console.log(
      `host kill: ${kinds.filter((k) => k === 'committed').length} committed, ${kinds.filter((k) => k === 'replayed').length} replayed, ` +
        `detection ${detectedMs.toFixed(0)} ms, longest gap after kill ${longestGap(result.finishedAt, killedAt).toFixed(0)} ms, ` +
        `p50 ${percentile(result.latencies, 50).toFixed(1)} ms, max ${Math.max(...result.latencies).toFixed(0)} ms`,
    );
    expect(failures).toEqual([]);
    expect(detectedMs).toBeLessThan(DETECTION_BOUND_MS);

    const ledger = new EtcdLedger({ client: cluster.client() });
    const ids = await payerHistoryIds(ledger, `${prefix}-payer`);
    expect(ids).toHaveLength(PAYMENTS);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: PAYMENTS }, (_, i) => `${prefix}-${i}`)));

    // Recovery: the restarted host registers again and only then reports ready.
    await cluster.fleet.restart('h2');
    await elapsedUntil('h2 ready', performance.now(), async () => (await fetch(`${h2.url}/ready`)).ok);
    expect((await clusterView(h2.url)).self.registered).toBe(true);
    expect(liveIds(await clusterView(h1.url))).toContain('h2');
  }, 120_000); // a long load run; TLS on every etcd link adds to it on a busy 2-core machine

  it('the leader host SIGKILLed: a new leader within TTL + 1 s', async () => {
    const oldLeader = await leaderId(hostOf('h1').url);
    expect(oldLeader).toBeDefined();
    const survivors = cluster.fleet.hosts.filter((h) => h.id !== oldLeader);
    const correctionsBefore = await Promise.all(survivors.map((h) => clockCorrection(h.url)));
    const killedAt = performance.now();
    await hostOf(oldLeader!).process.kill();
    const electedMs = await elapsedUntil('a new leader', killedAt, async () => {
      const views = await Promise.all(survivors.map((h) => clusterView(h.url)));
      return (
        views.filter((v) => v.self.isLeader).length === 1 &&
        views.every((v) => v.leader && v.leader.id !== oldLeader)
      );
    });
    console.log(`leader host kill: new leader after ${electedMs.toFixed(0)} ms`);
    expect(electedMs).toBeLessThan(DETECTION_BOUND_MS);

    // Clock sync survives: the new leader is the time master, and takes over without a jump.
    await new Promise((r) => setTimeout(r, 3500)); // three Berkeley rounds at the default 1 s
    const correctionsAfter = await Promise.all(survivors.map((h) => clockCorrection(h.url)));
    const jumps = correctionsAfter.map((after, i) =>
      Math.abs(after.correctionMs - correctionsBefore[i]!.correctionMs),
    );
    const spread = Math.abs(correctionsAfter[0]!.correctionMs - correctionsAfter[1]!.correctionMs);
    console.log(
      `clock master failover: largest jump ${Math.max(...jumps).toFixed(3)} ms, spread ${spread.toFixed(3)} ms`,
    );
    for (const after of correctionsAfter) expect(after.synced).toBe(true);
    expect(Math.max(...jumps)).toBeLessThan(5);
    expect(spread).toBeLessThan(5);

    await cluster.fleet.restart(oldLeader!);
    await elapsedUntil(
      'restarted host ready',
      performance.now(),
      async () => (await fetch(`${hostOf(oldLeader!).url}/ready`)).ok,
    );
  });

  it('the leader host paused (SIGSTOP): another takes over, and after SIGCONT the old one no longer leads', async () => {
    const oldLeader = (await leaderId(hostOf('h1').url))!;
    const paused = hostOf(oldLeader);
    const others = cluster.fleet.hosts.filter((h) => h !== paused);
    const pausedAt = performance.now();
    paused.process.pause();
    try {
      const electedMs = await elapsedUntil('a new leader', pausedAt, async () => {
        const views = await Promise.all(others.map((h) => clusterView(h.url)));
        return views.filter((v) => v.self.isLeader).length === 1;
      });
      console.log(`leader host pause: new leader after ${electedMs.toFixed(0)} ms`);
      expect(electedMs).toBeLessThan(DETECTION_BOUND_MS);
    } finally {
      paused.process.resume();
    }
    const newLeader = await leaderId(others[0]!.url);
    expect(newLeader).not.toBe(oldLeader);
    // As soon as it runs again it must not believe it leads (its lease bound has passed).
    const view = await clusterView(paused.url);
    expect(view.self.isLeader).toBe(false);
    await elapsedUntil(
      'the resumed host to see the new leader',
      performance.now(),
      async () => (await leaderId(paused.url)) === newLeader,
    );
  });
});
