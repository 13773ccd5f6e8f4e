/**
 * `npm run measure:failover`: measures the fault-tolerance figures docs/fault-tolerance.md records,
 * on a fresh local cluster (real etcd members and host processes on free loopback ports):
 *  - host failure detection: SIGKILL a host, time until it leaves the live set in /cluster;
 *  - client-visible failover gap for a host kill, under PaymentsClient load;
 *  - leader re-election time after the leader host is SIGKILLed;
 *  - etcd member detection: SIGSTOP a member, time until /cluster shows it unhealthy;
 *  - client-visible gap for an etcd leader kill, and the latency while one member is down;
 *  - redundancy overhead: throughput and backend size with one etcd member versus three.
 * Each fault is repeated `--runs` times (default 3). Figures are printed and written as JSON to
 * results/failover-<time>.json. Progress goes to stderr.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PaymentsClient } from '../client/payments-client';
import { longestGap, sendPayments } from '../loadtest/failover-load';
import { percentile } from '../loadtest/latency-stats';
import { clusterView, elapsedUntil, liveIds } from './cluster/cluster-probe';
import { REPO_ROOT } from './cluster/host-fleet';
import { useApiKey } from './cluster/http';
import { type ScratchCluster, startScratchCluster } from './cluster/scratch-cluster';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    payments: { type: 'string', default: '600' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run measure:failover -- [--runs N (default 3)] [--payments N per load phase (default 600)]',
  );
  process.exit(0);
}
const runs = Number(values.runs);
const payments = Number(values.payments);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(payments) || payments < 50) {
  console.error('--runs must be ≥ 1 and --payments ≥ 50');
  process.exit(2);
}

const progress = (line: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const summary = (xs: number[]) => ({
  min: Math.round(Math.min(...xs)),
  median: Math.round(percentile(xs, 50)),
  max: Math.round(Math.max(...xs)),
  runs: xs.map(Math.round),
});
let run = 0;
const tag = () => `m${Date.now().toString(36)}-${run++}`;

async function hostFaults(cluster: ScratchCluster) {
  const detection: number[] = [];
  const gap: number[] = [];
  const reelection: number[] = [];
  for (let i = 0; i < runs; i++) {
    const leader = (await clusterView(cluster.fleet.hosts[0]!.url)).leader!.id;
    const victim = cluster.fleet.hosts.find((h) => h.id !== leader)!;
    const observer = cluster.fleet.hosts.find((h) => h !== victim)!;
    const client = new PaymentsClient({ hosts: cluster.fleet.urls(), apiKey: cluster.adminKey });
    let killedAt = 0;
    let detected: Promise<number> | undefined;
    const result = await sendPayments(client, {
      count: payments,
      prefix: tag(),
      onProgress: (n) => {
        if (n !== Math.floor(payments / 3)) return;
        killedAt = performance.now();
        void victim.process.kill();
        detected = elapsedUntil(
          'victim gone',
          killedAt,
          async () => !liveIds(await clusterView(observer.url)).includes(victim.id),
        );
      },
    });
    const failed = result.outcomes.filter((o) => o.kind !== 'committed' && o.kind !== 'replayed').length;
    detection.push(await detected!);
    gap.push(longestGap(result.finishedAt, killedAt));
    progress(
      `host kill ${i + 1}/${runs}: detection ${detection.at(-1)!.toFixed(0)} ms, gap ${gap.at(-1)!.toFixed(0)} ms, failed ${failed}`,
    );
    await cluster.fleet.restart(victim.id);
    await elapsedUntil(
      'victim ready',
      performance.now(),
      async () => (await fetch(`${victim.url}/ready`)).ok,
    );

    const leaderHost = cluster.fleet.host(leader);
    const survivors = cluster.fleet.hosts.filter((h) => h !== leaderHost);
    const leaderKilledAt = performance.now();
    await leaderHost.process.kill();
    reelection.push(
      await elapsedUntil('new leader', leaderKilledAt, async () => {
        const views = await Promise.all(survivors.map((h) => clusterView(h.url)));
        return views.filter((v) => v.self.isLeader).length === 1;
      }),
    );
    progress(`leader host kill ${i + 1}/${runs}: new leader after ${reelection.at(-1)!.toFixed(0)} ms`);
    await cluster.fleet.restart(leader);
    await elapsedUntil(
      'old leader ready',
      performance.now(),
      async () => (await fetch(`${leaderHost.url}/ready`)).ok,
    );
  }
  return {
    hostDetectionMs: summary(detection),
    hostKillGapMs: summary(gap),
    leaderReelectionMs: summary(reelection),
  };
}

async function etcdFaults(cluster: ScratchCluster) {
  const observer = cluster.fleet.hosts[0]!.url;
  const members = async () => (await clusterView(observer)).etcd.members;
  const detection: number[] = [];
  const gap: number[] = [];
  const degradedP50: number[] = [];
  const degradedP99: number[] = [];
  const healthyP50: number[] = [];
  const healthyP99: number[] = [];
  for (let i = 0; i < runs; i++) {
    const follower = (await members()).find((m) => !m.isLeader)!.name;
    const member = cluster.etcd.member(follower);
    const pausedAt = performance.now();
    member.process.pause();
    detection.push(
      await elapsedUntil(
        'member unhealthy',
        pausedAt,
        async () => (await members()).find((m) => m.name === follower)?.healthy === false,
      ),
    );
    member.process.resume();
    progress(`etcd member pause ${i + 1}/${runs}: unhealthy after ${detection.at(-1)!.toFixed(0)} ms`);
    await cluster.etcd.waitHealthy();

    const client = new PaymentsClient({ hosts: cluster.fleet.urls(), apiKey: cluster.adminKey });
    const healthy = await sendPayments(client, { count: payments, prefix: tag() });
    healthyP50.push(percentile(healthy.latencies, 50));
    healthyP99.push(percentile(healthy.latencies, 99));
    await member.process.kill();
    const degraded = await sendPayments(client, { count: payments, prefix: tag() });
    degradedP50.push(percentile(degraded.latencies, 50));
    degradedP99.push(percentile(degraded.latencies, 99));
    await cluster.etcd.restartMember(follower);
    progress(
      `latency ${i + 1}/${runs}: healthy p50 ${healthyP50.at(-1)!.toFixed(1)} p99 ${healthyP99.at(-1)!.toFixed(1)} ms; ` +
        `one member down p50 ${degradedP50.at(-1)!.toFixed(1)} p99 ${degradedP99.at(-1)!.toFixed(1)} ms`,
    );

    const leader = (await members()).find((m) => m.isLeader)!.name;
    let killedAt = 0;
    const result = await sendPayments(client, {
      count: payments,
      prefix: tag(),
      onProgress: (n) => {
        if (n !== Math.floor(payments / 3)) return;
        killedAt = performance.now();
        void cluster.etcd.member(leader).process.kill();
      },
    });
    gap.push(longestGap(result.finishedAt, killedAt));
    const failed = result.outcomes.filter((o) => o.kind !== 'committed' && o.kind !== 'replayed').length;
    progress(`etcd leader kill ${i + 1}/${runs}: gap ${gap.at(-1)!.toFixed(0)} ms, failed ${failed}`);
    await cluster.etcd.restartMember(leader);
  }
  return {
    etcdMemberDetectionMs: summary(detection),
    etcdLeaderKillGapMs: summary(gap),
    latencyHealthyMs: { p50: summary(healthyP50), p99: summary(healthyP99) },
    latencyOneMemberDownMs: { p50: summary(degradedP50), p99: summary(degradedP99) },
  };
}

/** Throughput and backend size for the same load on one member and on three. */
async function redundancy() {
  const rows: Record<string, unknown>[] = [];
  for (const members of [1, 3]) {
    const cluster = await startScratchCluster({ members, hosts: 2 });
    useApiKey(cluster.adminKey); // for the /cluster probes of dev/cluster/cluster-probe.ts
    try {
      const client = new PaymentsClient({ hosts: cluster.fleet.urls(), apiKey: cluster.adminKey });
      const before = await clusterView(cluster.fleet.hosts[0]!.url);
      const started = performance.now();
      const result = await sendPayments(client, { count: payments * 2, prefix: tag(), concurrency: 16 });
      const seconds = (performance.now() - started) / 1000;
      const after = await clusterView(cluster.fleet.hosts[0]!.url);
      const size = (view: typeof after) =>
        view.etcd.members.reduce((sum, m) => sum + (m.dbSizeInUseBytes ?? 0), 0);
      const row = {
        etcdMembers: members,
        payments: payments * 2,
        throughputPerSecond: Math.round((payments * 2) / seconds),
        p50Ms: Number(percentile(result.latencies, 50).toFixed(1)),
        p99Ms: Number(percentile(result.latencies, 99).toFixed(1)),
        backendInUseGrowthBytesAllMembers: size(after) - size(before),
      };
      rows.push(row);
      progress(`redundancy: ${JSON.stringify(row)}`);
    } finally {
      await cluster.stop();
    }
  }
  return rows;
}

const startedAt = new Date().toISOString();
const results: Record<string, unknown> = {
  startedAt,
  runs,
  paymentsPerPhase: payments,
  membershipTtlSeconds: 2,
};
progress('starting a cluster of 3 etcd members and 3 function hosts ...');
const cluster = await startScratchCluster({ hosts: 3 });
useApiKey(cluster.adminKey); // for the /cluster probes of dev/cluster/cluster-probe.ts
try {
  let last: unknown;
  await elapsedUntil(
    'cluster formed',
    performance.now(),
    async () => {
      const view = await clusterView(cluster.fleet.hosts[0]!.url);
      last = view;
      return liveIds(view).length === 3 && view.leader !== null;
    },
    30_000,
  ).catch((error) => {
    progress(`cluster did not form; last view: ${JSON.stringify(last)}; logs in ${cluster.dir}`);
    throw error;
  });
  Object.assign(results, await hostFaults(cluster));
  Object.assign(results, await etcdFaults(cluster));
} finally {
  await cluster.stop();
}
try {
  results.redundancy = await redundancy();
} catch (error) {
  // The fault figures above stand on their own; report the failure instead of losing them.
  results.redundancy = { error: (error as Error).message };
  progress(`redundancy measurement failed: ${(error as Error).message}`);
}
console.log(JSON.stringify(results, null, 2));
const dir = join(REPO_ROOT, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `failover-${startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
progress(`written to ${file}`);
