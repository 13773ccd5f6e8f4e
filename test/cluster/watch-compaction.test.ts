/**
 * Issue 15 §2, watches lost to compaction, on a real cluster (three etcd members, three hosts):
 * etcd is compacted to its head, each member is SIGKILLed and restarted in turn (every host's
 * watch stream reconnects with a resume revision that is now compacted, and etcd cancels it),
 * then a host is SIGKILLed. Every surviving host must still follow membership and leadership,
 * and the time master must keep running Berkeley rounds.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinationKeys } from '../../coordination/etcd/key-layout';
import { type ClusterResponse, clusterView, elapsedUntil, liveIds } from '../../dev/cluster/cluster-probe';
import { request } from '../../dev/cluster/http';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const TTL_MS = 2000;
/**
 * The target is TTL + 1 s (3 s); measured here at 1.6–3.3 s on a shared 2-core machine
 * (load 7–19). A frozen view never becomes right,
 * so a generous bound (3× the target) still catches the bug this test pins; the figure is printed,
 * and host failure detection against its target is measured by `npm run measure:failover`.
 */
// One run (load ~20) timed out at 9 s with both survivors naming h3 leader (its campaign key's
// token) while h3's own isLeader() was false; an earlier 4.5 s timeout's views were not kept. The
// mechanism that fits (a key that stays lowest for 9 s, so not an expiring stale key): h3's etcd3
// campaign lost its predecessor's delete event (docs/fault-tolerance.md, Hardening), pinned by
// leader-election.test.ts › "a campaign's wait misses its predecessor's delete …". Not seen again
// here since the fix, but it was seen only once in 16 runs before it either.
const TARGET_MS = TTL_MS + 1000;
const BOUND_MS = 3 * TARGET_MS;

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 3 });
  await elapsedUntil(
    'all hosts registered and one leader',
    performance.now(),
    async () => {
      const views = await Promise.all(cluster.fleet.urls().map((url) => clusterView(url)));
      return views.every((v) => liveIds(v).length === 3) && views.filter((v) => v.self.isLeader).length === 1;
    },
    30_000,
  );
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

/** A counter from a host's /metrics (0 when absent). */
async function metric(url: string, name: string): Promise<number> {
  const { text } = await request(`${url}/metrics`);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('etcd watches and compaction', () => {
  it('watches lost to compaction: after compact + kill -9/restart of each member + a host stop, membership and leadership become right on every host (target TTL + 1 s, bound 3×) and Berkeley rounds continue', async () => {
    const etcd = cluster.client();
    // Move the revision past every watch's resume point, then compact to the head.
    for (let i = 0; i < 20; i++) await etcd.put(`/watch-compaction-test/${i}`).value(String(i));
    const head = Number((await etcd.get('/watch-compaction-test/0').exec()).header.revision);
    await etcd.kv.compact({ revision: head });

    for (const member of cluster.etcd.members) {
      await member.process.kill();
      await new Promise((r) => setTimeout(r, 500)); // the hosts' streams on it break and move
      await cluster.etcd.restartMember(member.name);
    }
    await cluster.etcd.waitHealthy();
    // No retry here: with etcd healthy again, every host must answer at once. Each member's
    // circuit breaker in a host's client had opened while it was down and was still cooling down,
    // all three at once, so the API key read failed and /cluster answered 503 ("circuit breaker
    // is open"); the health probe now closes a breaker as soon as its member passes a probe
    // (coordination/etcd/endpoint-routing.ts, test/unit/endpoint-routing.test.ts).

    const views = await Promise.all(cluster.fleet.urls().map((url) => clusterView(url)));
    const leaderId = views.find((v) => v.self.isLeader)?.self.id ?? views[0]!.leader?.id;
    const victim = cluster.fleet.hosts.find((h) => h.id !== leaderId)!;
    const survivors = cluster.fleet.hosts.filter((h) => h !== victim);
    const stoppedAt = performance.now();
    await victim.process.kill();

    const electionPrefix = `${coordinationKeys(cluster.ledgerRoot).coordinationNamespace()}election/`;
    let last: ClusterResponse[] = [];
    const settledMs = await elapsedUntil(
      'membership and leadership right on every surviving host',
      stoppedAt,
      async () => {
        const truth = await etcd.getAll().prefix(electionPrefix).sort('Create', 'Ascend').limit(1).exec();
        const token = truth.kvs[0]?.create_revision;
        last = await Promise.all(survivors.map((h) => clusterView(h.url)));
        const wantLive = survivors.map((h) => h.id).sort();
        return (
          last.every((v) => JSON.stringify(liveIds(v)) === JSON.stringify(wantLive)) &&
          last.filter((v) => v.self.isLeader).length === 1 &&
          last.every(
            (v) =>
              v.leader?.fencingToken === token && v.leader?.id === last.find((w) => w.self.isLeader)?.self.id,
          )
        );
      },
      BOUND_MS,
    ).catch((error) => {
      console.log(
        'views at timeout',
        JSON.stringify(last.map((v) => ({ self: v.self, live: liveIds(v), leader: v.leader }))),
      );
      throw error;
    });
    console.log(
      `watches lost to compaction: views right ${settledMs.toFixed(0)} ms after the host stop (target ${TARGET_MS} ms)`,
    );
    expect(settledMs).toBeLessThan(BOUND_MS);

    // Berkeley rounds continue on the time master, and every host counted its watch restarts.
    const master = survivors.find((h) => last.find((v) => v.self.id === h.id)?.self.isLeader)!;
    const roundsBefore = await metric(master.url, 'clock_sync_rounds_total');
    await new Promise((r) => setTimeout(r, 3000));
    const roundsAfter = await metric(master.url, 'clock_sync_rounds_total');
    console.log(`Berkeley rounds on ${master.id}: ${roundsBefore} → ${roundsAfter} in 3 s`);
    expect(roundsAfter - roundsBefore).toBeGreaterThanOrEqual(2);
    for (const h of survivors) expect(await metric(h.url, 'etcd_watch_restarts_total')).toBeGreaterThan(0);
  }, 120_000);
});
