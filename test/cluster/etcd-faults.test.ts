/**
 * etcd member faults on a real cluster (three members, two function hosts): detection of a
 * stopped member, a follower and then the leader SIGKILLed under load, a member that catches up
 * after a restart, a member replaced after losing its data directory, and quorum loss.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PaymentsClient } from '../../client/payments-client';
import { clusterView, elapsedUntil } from '../../dev/cluster/cluster-probe';
import { withApiKey } from '../../dev/cluster/http';
import type { PendingCommit } from '../../ledger/etcd/commit-transaction';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { keyLayout, prefixEnd } from '../../ledger/etcd/key-layout';
import { loadPayment, longestGap, payerHistoryIds, sendPayments } from '../../loadtest/failover-load';
import { percentile } from '../../loadtest/latency-stats';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 2, hostEnv: { REQUEST_DEADLINE_MS: '3000' } });
});
afterAll(async () => {
  await cluster?.stop();
});
// Each test starts from a whole cluster, even when an earlier one failed halfway through a fault.
beforeEach(async () => {
  for (const m of cluster.etcd.members) if (!m.process.running) await cluster.etcd.restartMember(m.name);
  await until(
    'every member healthy in /cluster',
    async () => {
      const members = await memberStatuses();
      return members.every((m) => m.healthy) && members.some((m) => m.isLeader);
    },
    30_000,
  );
});

const h1 = () => cluster.fleet.hosts[0]!;
const memberStatuses = async () => (await clusterView(h1().url)).etcd.members;
const etcdLeaderName = async () => (await memberStatuses()).find((m) => m.isLeader)?.name;
const followerName = async () => (await memberStatuses()).find((m) => m.healthy && !m.isLeader)!.name;

/** Polls `probe` until it holds; returns the ms that took. */
const until = (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000) =>
  elapsedUntil(what, performance.now(), probe, timeoutMs);

/** The id of every record under `root` as one member alone answers, with a serializable (local) read. */
async function idsServedBy(clientUrl: string, root: string): Promise<Set<string>> {
  const single = cluster.client({ endpoints: [clientUrl], attempts: 1 });
  const prefix = keyLayout(root).paymentsPrefix();
  const response = await single.kv.range({
    key: Buffer.from(prefix),
    range_end: prefixEnd(prefix),
    serializable: true,
    keys_only: true,
  });
  // Record keys are `<prefix><id>/<payer>` (ledger/etcd/key-layout.ts).
  return new Set(response.kvs.map((kv) => kv.key.toString().slice(prefix.length).split('/')[0]!));
}

const SERIALIZABLE_ROOT = `/test/catch-up-${randomUUID().slice(0, 8)}`;
const CATCH_UP_IDS = Array.from({ length: 1000 }, (_, i) => `catch-up-${i}`);

describe('etcd member faults', () => {
  it('a paused (SIGSTOP) member shows as unhealthy in /cluster within 2 s', async () => {
    const name = await followerName();
    const member = cluster.etcd.member(name);
    const pausedAt = performance.now();
    member.process.pause();
    let detectedMs: number;
    try {
      await until('the member to be unhealthy', async () => {
        const status = (await memberStatuses()).find((m) => m.name === name);
        return status?.healthy === false;
      });
      detectedMs = performance.now() - pausedAt;
    } finally {
      member.process.resume();
    }
    console.log(`etcd member pause: unhealthy in /cluster after ${detectedMs.toFixed(0)} ms`);
    expect(detectedMs).toBeLessThan(2000 + 1000); // 2 s, plus slack for a busy machine
    await until('the member healthy again', async () => (await memberStatuses()).every((m) => m.healthy));
  });

  it('an etcd follower, then the etcd leader, SIGKILLed during load: nothing acknowledged lost, no duplicates', async () => {
    const prefix = `etcd-${randomUUID().slice(0, 8)}`;
    const count = 800;
    const client = new PaymentsClient({
      hosts: cluster.fleet.urls(),
      deadlineMs: 30_000,
      apiKey: cluster.adminKey,
    });
    let done = 0;
    const load = sendPayments(client, {
      count,
      prefix,
      onProgress: (n) => {
        done = n;
      },
    });
    const reach = (n: number) => until(`${n} payments`, async () => done >= n, 60_000);

    await reach(100);
    const follower = await followerName();
    await cluster.etcd.member(follower).process.kill();
    await reach(200);
    await cluster.etcd.restartMember(follower);
    await reach(done + 50);
    const leader = (await etcdLeaderName())!;
    const leaderKilledAt = performance.now();
    const doneAtKill = done;
    await cluster.etcd.member(leader).process.kill();
    const result = await load;
    expect(doneAtKill).toBeLessThan(count); // the kill really happened during the load

    const failures = result.outcomes.filter((o) => o.kind !== 'committed' && o.kind !== 'replayed');
    const replayed = result.outcomes.filter((o) => o.kind === 'replayed').length;
    console.log(
      `etcd follower+leader kill: ${count - replayed} committed, ${replayed} replayed, ` +
        `longest gap after leader kill ${longestGap(result.finishedAt, leaderKilledAt).toFixed(0)} ms, ` +
        `p50 ${percentile(result.latencies, 50).toFixed(1)} ms, p99 ${percentile(result.latencies, 99).toFixed(0)} ms`,
    );
    expect(failures).toEqual([]);

    const ledger = new EtcdLedger({ client: cluster.client() });
    const ids = await payerHistoryIds(ledger, `${prefix}-payer`);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    // Every payment readable from every host, with the content that was sent.
    for (const host of cluster.fleet.hosts) {
      const missing: string[] = [];
      for (let i = 0; i < count; i += 20) {
        const batch = Array.from({ length: Math.min(20, count - i) }, (_, k) => loadPayment(prefix, i + k));
        await Promise.all(
          batch.map(async (p) => {
            const response = await fetch(`${host.url}/payments/${p.id}`, { headers: withApiKey(undefined) });
            const body = (await response.json()) as { amount?: number };
            if (response.status !== 200 || body.amount !== p.amount) missing.push(p.id);
          }),
        );
      }
      expect(missing).toEqual([]);
    }
    await cluster.etcd.restartMember(leader);
  }, 120_000); // a long load run; TLS on every etcd link adds to it on a busy 2-core machine

  it('a member restarted with its data catches up: 1000 payments committed while it was down are served by it alone', async () => {
    const name = await followerName();
    const member = cluster.etcd.member(name);
    await member.process.kill();
    const ledger = new EtcdLedger({ client: cluster.client(), root: SERIALIZABLE_ROOT });
    const committedAt = new Date().toISOString();
    for (let i = 0; i < CATCH_UP_IDS.length; i += 100) {
      const items: PendingCommit[] = CATCH_UP_IDS.slice(i, i + 100).map((id, k) => ({
        intent: { ...loadPayment('catch-up', i + k), id },
        context: { host: 'test', committedAt },
        nonce: randomUUID(),
      }));
      const results = await ledger.commitMany(items);
      expect(results.every((r) => r.ok)).toBe(true);
    }
    await cluster.etcd.restartMember(name);
    const caughtUpMs = await until(
      'the member to serve all 1000',
      async () => (await idsServedBy(member.clientUrl, SERIALIZABLE_ROOT)).size === 1000,
    );
    console.log(
      `etcd member restart: all 1000 payments served by it alone ${caughtUpMs.toFixed(0)} ms after it was healthy`,
    );
    expect(await idsServedBy(member.clientUrl, SERIALIZABLE_ROOT)).toEqual(new Set(CATCH_UP_IDS));
  });

  it('a member whose data directory is lost is replaced (member remove, member add, existing state) and serves everything', async () => {
    const admin = cluster.client();
    const before = (await admin.cluster.memberList({})).members.find((m) => m.name === 'n2')!;
    const started = performance.now();
    const fresh = await cluster.etcd.replaceMember('n2');
    console.log(
      `etcd replace-member: n2 replaced and healthy after ${(performance.now() - started).toFixed(0)} ms`,
    );
    const after = (await admin.cluster.memberList({})).members;
    expect(after).toHaveLength(3);
    const n2 = after.find((m) => m.name === 'n2')!;
    expect(n2.ID).not.toBe(before.ID);
    await until(
      'the new member to serve all 1000',
      async () => (await idsServedBy(fresh.clientUrl, SERIALIZABLE_ROOT)).size === 1000,
    );
    expect(await idsServedBy(fresh.clientUrl, SERIALIZABLE_ROOT)).toEqual(new Set(CATCH_UP_IDS));
  });

  it('quorum loss (two members down): bounded-time 503s, then full recovery after restart', async () => {
    const [a, b] = cluster.etcd.members.filter((m) => m.process.running).slice(0, 2);
    await Promise.all([a!.process.kill(), b!.process.kill()]);
    const payment = loadPayment(`quorum-${randomUUID().slice(0, 8)}`, 0);
    const started = performance.now();
    const response = await fetch(`${h1().url}/payments`, {
      method: 'POST',
      headers: withApiKey({ 'content-type': 'application/json' }),
      body: JSON.stringify(payment),
    });
    const elapsed = performance.now() - started;
    console.log(`quorum loss: ${response.status} after ${elapsed.toFixed(0)} ms`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(elapsed).toBeLessThan(3000 + 2000); // REQUEST_DEADLINE_MS plus slack
    expect((await fetch(`${h1().url}/ready`)).status).toBe(503);

    await Promise.all([cluster.etcd.restartMember(a!.name), cluster.etcd.restartMember(b!.name)]);
    const client = new PaymentsClient({
      hosts: cluster.fleet.urls(),
      deadlineMs: 20_000,
      apiKey: cluster.adminKey,
    });
    const outcome = await client.pay(payment);
    expect(['committed', 'replayed']).toContain(outcome.kind);
    await until('hosts ready again', async () =>
      (await Promise.all(cluster.fleet.urls().map((u) => fetch(`${u}/ready`)))).every((r) => r.ok),
    );
  });
});
