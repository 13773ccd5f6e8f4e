/**
 * Issue 15 §4's partition scenarios, shared by test/cluster/partition-recovery.test.ts (which
 * asserts that commits resume, within generous bounds) and `npm run measure:partitions`
 * (dev/measure-partitions.ts, which repeats each fault and prints the stalls against the targets).
 *
 * 16 clients (each a PaymentsClient failing over between the three hosts) pay in a loop while one
 * fault is injected through the chaos cluster's link proxies on loopback (dev/chaos/chaos-cluster.ts),
 * held, and healed. Each figure is the longest time without any commit reaching a client, from the
 * fault (or the heal) on.
 */
import { performance } from 'node:perf_hooks';
import { PaymentsClient } from '../client/payments-client';
import { createEtcdClient } from '../coordination/etcd/etcd-client';
import { ChaosCluster } from './chaos/chaos-cluster';
import { ensureEtcd } from './cluster/ensure-etcd';
import { DEFAULT_ELECTION_TIMEOUT_MS } from './cluster/etcd-cluster';

/**
 * etcd's election timeout for these scenarios, heartbeat a tenth of it: the launcher's
 * (dev/cluster/etcd-cluster.ts), unless PARTITION_ELECTION_TIMEOUT_MS measures another candidate
 * (docs/fault-tolerance.md, "Election timeout").
 */
export const ELECTION_TIMEOUT_MS = Number(
  process.env.PARTITION_ELECTION_TIMEOUT_MS ?? DEFAULT_ELECTION_TIMEOUT_MS,
);
export const CLIENTS = 16;
/** How long a fault is held, and how long commits are watched after the heal, ms. */
export const HOLD_MS = 6000;
export const AFTER_HEAL_MS = 4000;

export interface StallResult {
  /** Longest stretch without a commit from the fault to the heal, ms. */
  during: number;
  /** Longest stretch without a commit from the heal to the end, ms. */
  afterHeal: number;
  commits: number;
  /** Payments that neither committed nor replayed (each should, whatever the fault). */
  failures: string[];
  /** isolate-leader only: when another member became the etcd leader, ms after the isolation. */
  electedAfterMs?: number;
}

export interface PartitionFault {
  name: 'isolate-leader' | 'cut-host' | 'pause-follower';
  /** docs/fault-tolerance.md's targets for the stall after the fault and after the heal, ms. */
  target: { during: number; afterHeal: number };
  describe: string;
  run(cluster: ChaosCluster, tag: string, log?: (line: string) => void): Promise<StallResult>;
}

/** Starts the chaos cluster these scenarios run on, with etcd at ELECTION_TIMEOUT_MS. */
export function startPartitionCluster(dir: string): Promise<ChaosCluster> {
  return ChaosCluster.start({
    etcdBinary: ensureEtcd(),
    dir,
    etcdTiming: { electionTimeoutMs: ELECTION_TIMEOUT_MS, heartbeatMs: ELECTION_TIMEOUT_MS / 10 },
    // PARTITION_HOST_ENV='{"ETCD_CALL_DEADLINE_MS":"800"}' measures other host settings.
    hostEnv: JSON.parse(process.env.PARTITION_HOST_ENV ?? '{}'),
  });
}

/**
 * The Raft term now: one election at start and one per isolation are expected; more means
 * spurious elections (the cost of a short election timeout on a busy machine).
 */
export async function raftTerm(cluster: ChaosCluster): Promise<string> {
  const client = createEtcdClient({ endpoints: cluster.etcd.clientUrls(), tls: cluster.etcd.credentials() });
  try {
    return String((await client.maintenance.status()).raftTerm ?? '?');
  } catch {
    return '?';
  } finally {
    client.close();
  }
}

/** Clients paying in a loop until stopped; records when each commit (or replay) reached its client. */
function startWorkload(cluster: ChaosCluster, tag: string) {
  const commits: number[] = [];
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const worker = async (w: number) => {
    const client = new PaymentsClient({ hosts: cluster.hosts.map((h) => h.url), apiKey: cluster.adminKey });
    while (running) {
      const i = n++;
      const outcome = await client.pay({
        id: `${tag}-${i}`,
        payer: `${tag}-payer-${w}`,
        payee: 'shop-1',
        amount: i + 1,
        currency: 'EUR',
      });
      if (outcome.kind === 'committed' || outcome.kind === 'replayed') commits.push(performance.now());
      else failures.push(outcome.kind === 'failed' ? outcome.reason : outcome.kind);
    }
  };
  const done = Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
  return {
    commits,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The longest stretch of [from, to] in which no client saw a commit. */
export function stall(commits: number[], from: number, to: number): number {
  const points = [from, ...commits.filter((t) => t > from && t < to).sort((a, b) => a - b), to];
  let longest = 0;
  for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
  return longest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the workload across `inject`, a hold, `heal` and a tail; returns the stalls during and after. */
async function measureStall(
  cluster: ChaosCluster,
  tag: string,
  inject: () => Promise<void> | void,
  heal: () => void,
): Promise<StallResult> {
  await cluster.waitHealthy(45_000);
  const load = startWorkload(cluster, tag);
  let faultAt = 0;
  let healedAt = 0;
  let end = 0;
  try {
    await sleep(1500);
    faultAt = performance.now();
    await inject();
    await sleep(HOLD_MS);
    healedAt = performance.now();
    heal();
    await sleep(AFTER_HEAL_MS);
    end = performance.now();
  } finally {
    heal();
    await load.stop();
  }
  return {
    during: Math.round(stall(load.commits, faultAt, healedAt)),
    afterHeal: Math.round(stall(load.commits, healedAt, end)),
    commits: load.commits.length,
    failures: load.failures,
  };
}

export const PARTITION_FAULTS: PartitionFault[] = [
  {
    name: 'isolate-leader',
    target: { during: ELECTION_TIMEOUT_MS + 1000, afterHeal: 1000 },
    describe: 'etcd leader isolated (election timeout + 1 s), then healed (1 s)',
    async run(cluster, tag) {
      let electedAfterMs: number | undefined;
      const result = await measureStall(
        cluster,
        tag,
        async () => {
          const leader = await cluster.leader();
          if (!leader) throw new Error('no etcd leader');
          const isolatedAt = performance.now();
          cluster.isolateMember(leader.name);
          void (async () => {
            for (let i = 0; i < 100 && performance.now() - isolatedAt < HOLD_MS; i++) {
              const next = await cluster.leader(leader.name);
              if (next && next.name !== leader.name) {
                electedAfterMs = Math.round(performance.now() - isolatedAt);
                return;
              }
              await sleep(50);
            }
          })();
        },
        () => cluster.healNetwork(),
      );
      return { ...result, electedAfterMs };
    },
  },
  {
    name: 'cut-host',
    target: { during: 1000, afterHeal: 1000 },
    describe: 'host h2 cut off from etcd (1 s), then healed (1 s)',
    run: (cluster, tag) =>
      measureStall(
        cluster,
        tag,
        () => cluster.cutHost('h2'),
        () => cluster.healNetwork(),
      ),
  },
  {
    name: 'pause-follower',
    target: { during: 1000, afterHeal: 1000 },
    describe: 'etcd follower paused (1 s), then resumed (1 s)',
    async run(cluster, tag) {
      let paused: { process: { resume(): boolean } } | undefined;
      return measureStall(
        cluster,
        tag,
        async () => {
          const leader = await cluster.leader();
          const follower = cluster.etcd.members.find((m) => m.name !== leader?.name)!;
          follower.process.pause();
          paused = follower;
        },
        () => paused?.process.resume(),
      );
    },
  },
];

/** One line per run: the stalls, and the new leader's election time when there is one. */
export function describeRun(fault: PartitionFault, r: StallResult): string {
  const elected = r.electedAfterMs === undefined ? '' : `, new leader after ${r.electedAfterMs} ms`;
  return `${fault.name}: stall after the fault ${r.during} ms (target ${fault.target.during}), after the heal ${r.afterHeal} ms (target ${fault.target.afterHeal}), ${r.commits} commits${elected}`;
}
