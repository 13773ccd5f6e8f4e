/**
 * `npm run bench`: one run, on a fresh system started as `npm start` runs it (free ports, temp
 * dirs; dev/bench/bench-system.ts: TLS etcd, PostgreSQL primary + synchronous standby holding the
 * archive and the event log, chrony, hosts with API keys, info logs, metrics and a hot window
 * shorter than the run, so archival runs during it), that measures
 *   1. raw etcd single puts at concurrency 64 (what etcd does with no logic at all);
 *   2. the naive baseline: one create-if-absent transaction per payment, one Node process,
 *      concurrency 64 (EtcdLedger with group commit off);
 *   3. end to end: POST /payments through the three hosts with autocannon, at increasing offered
 *      load, then flat out;
 *   4. the HTTP ceiling: the same flat-out load against a bare Hono app on the same adapter, one
 *      process per host (dev/bench/http-ceiling-server.ts), so end to end reads as a share of it;
 * with throughput, p50/p95/p99, payments per etcd transaction, the CPU each process group spent
 * per payment (/proc/<pid>/stat: etcd members, hosts, every PostgreSQL process, chrony, the load
 * generator), etcd's own figures during "end to end, max" (dev/bench/etcd-metrics.ts), and bytes
 * per payment on disk before and after compaction + defragmentation, and after a retention
 * delete. With --repeat N every row is measured N times, interleaved (A B C A B C ...), and each
 * figure is kept as a Stat (median, min, max, samples; dev/bench/stat.ts). Prints tables and the
 * ratio end to end / baseline; writes results/bench-<time>.json (and --json FILE),
 * results/latency-vs-throughput.svg and results/summary.md. `npm run bench -- --help` lists the
 * flags.
 *
 * Every process of the run shares this machine's cores with etcd and the hosts, and so with
 * anything else running: compare the ratios measured side by side in one run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createEtcdClient } from '../coordination/etcd/etcd-client';
import { parseDuration } from '../functions/config';
import { DEFAULT_MAX_REQUESTS_IN_PROGRESS } from '../functions/middleware/requests-in-progress';
import { EtcdLedger } from '../ledger/etcd/etcd-ledger';
import { keyLayout, prefixEnd } from '../ledger/etcd/key-layout';
import { authHeaders } from '../loadtest/api-key';
import { runHttpLoad } from '../loadtest/http-driver';
import { figuresRow, type LoadFigures } from '../loadtest/latency-stats';
import { paymentBody } from '../loadtest/scenarios';
import { startBenchSystem } from './bench/bench-system';
import { runClosedLoop } from './bench/closed-loop';
import { EtcdMetricsProbe, type EtcdRowMetrics } from './bench/etcd-metrics';
import { startCeilingServers } from './bench/http-ceiling';
import { latencyPlot } from './bench/latency-plot';
import { type CpuProbe, cpuMs, cpuSnapshot, ownCpuMs, processTreeCpuMs } from './bench/process-cpu';
import { type MemberSize, StorageProbe } from './bench/storage';
import { REPO_ROOT } from './cluster/host-fleet';
import { measurementHeader } from './measure-output';
import { type Stat, statOf, statsByKey } from './measure-stat';

const HELP = `Usage: npm run bench -- [flags]

  --quick              short runs (3 s per level, fewer levels): a smoke test, figures are rough
  --seconds N          seconds per measured run                      default 10 (quick: 3)
  --levels LIST        offered loads end to end, payments/s, and/or "max"
                                                                     default 1000,2000,4000,6000,max
  --members N          etcd members (1, 3, 5, ...)                   default 3
  --concurrency N      workers of the direct etcd runs               default 64
  --connections N      HTTP connections at "max" (rated levels: 96)  default 192
  --batch-max N        COMMIT_BATCH_MAX on the hosts                 default 256
  --window-ms N        COMMIT_BATCH_WINDOW_MS on the hosts           default 2
  --in-flight N        COMMIT_MAX_IN_FLIGHT on the hosts             default 4
  --no-batching        hosts commit one transaction per payment
  --repeat N           measure every row N times, interleaved        default 1
  --hot-window DUR     LEDGER_HOT_WINDOW of the hosts: shorter than  default 5s
                       the run, so archival runs during it
  --skip-storage       skip the storage measurement
  --skip-ceiling       skip the HTTP ceiling run
  --profile            run the hosts with --cpu-prof; profiles land in <out>/profiles
  --out DIR            results directory                             default results
  --tag TEXT           label stored in the JSON and file names
  --json FILE          write the JSON report there too
  --run-id ID          copied into the JSON as runId (npm run report)
  --help               this text
`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    seconds: { type: 'string' },
    levels: { type: 'string' },
    members: { type: 'string' },
    concurrency: { type: 'string' },
    connections: { type: 'string' },
    'batch-max': { type: 'string' },
    'window-ms': { type: 'string' },
    'in-flight': { type: 'string' },
    'no-batching': { type: 'boolean' },
    repeat: { type: 'string' },
    'hot-window': { type: 'string' },
    'skip-storage': { type: 'boolean' },
    'skip-ceiling': { type: 'boolean' },
    profile: { type: 'boolean' },
    out: { type: 'string' },
    tag: { type: 'string' },
    json: { type: 'string' },
    'run-id': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}

function int(text: string | undefined, fallback: number, what: string, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`error: ${what} must be an integer ≥ ${min}, got ${text}\n\n${HELP}`);
    process.exit(2);
  }
  return n;
}

const quick = flags.quick ?? false;
const seconds = int(flags.seconds, quick ? 3 : 10, '--seconds');
const levels = (flags.levels ?? (quick ? '2000,max' : '1000,2000,4000,6000,max')).split(',').map((l) => {
  if (l === 'max') return 'max' as const;
  return int(l, 0, '--levels');
});
const members = int(flags.members, 3, '--members');
const repeat = int(flags.repeat, 1, '--repeat');
const hotWindow = flags['hot-window'] ?? '5s';
if (parseDuration(hotWindow) === undefined) {
  console.error(`error: --hot-window must be a duration such as 5s or 2m, got ${hotWindow}\n\n${HELP}`);
  process.exit(2);
}
const measurement = measurementHeader('bench', flags['run-id']);
const { command } = measurement;
const concurrency = int(flags.concurrency, 64, '--concurrency');
const maxConnections = int(flags.connections, 192, '--connections');
const outDir = resolve(REPO_ROOT, flags.out ?? 'results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const tag = flags.tag ?? '';
const hostEnv: Record<string, string> = {
  COMMIT_BATCHING: flags['no-batching'] ? 'off' : 'on',
  COMMIT_BATCH_MAX: String(int(flags['batch-max'], 256, '--batch-max')),
  COMMIT_BATCH_WINDOW_MS: String(int(flags['window-ms'], 2, '--window-ms', 0)),
  COMMIT_MAX_IN_FLIGHT: String(int(flags['in-flight'], 4, '--in-flight')),
  // The bench is one client with one key and 64 connections per host at "max": the per-key share
  // of requests in progress (half the host's bound by default, a fairness bound between tenants)
  // would shed its own load. The host-wide bound stays as npm start has it.
  HOST_MAX_REQUESTS_PER_KEY: String(DEFAULT_MAX_REQUESTS_IN_PROGRESS),
};
const profileDir = join(outDir, 'profiles', stamp);
if (flags.profile) {
  mkdirSync(profileDir, { recursive: true });
}
const hostNodeArgs = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];

/** Root of the naive-baseline ledger, apart from the hosts' own. */
const NAIVE_ROOT = '/bench/naive';
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const progress = (what: string, total: number) => {
  const t0 = performance.now();
  return (done: number) =>
    log(`  ${what}: ${Math.round((performance.now() - t0) / 1000)}/${total} s, ${done} answered`);
};

/** One measurement of one row. */
interface Sample {
  name: string;
  offered: number | 'max' | 'closed-loop';
  figures: LoadFigures;
  /** Payments per etcd revision (transaction) during the run. */
  paymentsPerTxn?: number;
  /** CPU microseconds per successful operation, per process group. */
  cpuUsPerOp: Record<string, number>;
  /** CPU busy over the run, as a share of the machine's cores. */
  cpuShareOfMachine: number;
  /** etcd's figures over the run ("end to end, max" only). */
  etcd?: EtcdRowMetrics;
}

/** A row over its repeats: medians where one figure is shown, and every figure as a Stat. */
interface RunResult extends Omit<Sample, 'etcd'> {
  stats: {
    throughputPerS: Stat;
    p50Ms: Stat;
    p99Ms: Stat;
    paymentsPerTxn: Stat;
    cpuUsPerOp: Record<string, Stat>;
  };
}

log(
  `fresh system as npm start runs it: ${members} etcd members, PostgreSQL + standby, chrony, 3 hosts (hot window ${hotWindow}, ${JSON.stringify(hostEnv)}) ...`,
);
const system = await startBenchSystem({
  hotWindow,
  log,
  cluster: {
    members,
    hosts: 3,
    hostEnv,
    hostNodeArgs,
    dirPrefix: 'payments-bench-',
    // Generous: on a busy 2-core machine tsx may take a minute to compile a host.
    startTimeoutMs: { etcd: 120_000, hosts: 180_000 },
  },
});
const cluster = system.cluster;
const stopAll = async () => {
  await system.stop().catch(() => {});
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

const client = createEtcdClient({
  endpoints: cluster.etcd.clientUrls(),
  callDeadlineMs: 10_000,
  tls: cluster.etcd.credentials(),
});
const storage = new StorageProbe(cluster.etcd);
const postgresServers = [system.postgres.primary, system.postgres.standby].filter((s) => s !== undefined);
/** Every process of the system but the hosts: etcd, PostgreSQL (each postmaster and its backends), chrony, this process. */
const systemProbes = (hosts: CpuProbe[]): CpuProbe[] => [
  ...cluster.etcd.members.map((m) => ({ group: 'etcd members', read: () => cpuMs(m.process.pid) })),
  ...hosts,
  ...postgresServers.map((s) => ({ group: 'postgres', read: () => processTreeCpuMs(s.process.pid) })),
  ...(system.chrony ? [{ group: 'chrony', read: () => cpuMs(system.chrony!.process.pid) }] : []),
  { group: 'load generator', read: ownCpuMs },
];
const probes = systemProbes(
  cluster.fleet.hosts.map((h) => ({ group: 'hosts', read: () => cpuMs(h.process.pid) })),
);
const etcdMetrics = new EtcdMetricsProbe(
  cluster.etcd.members.map((m) => `http://127.0.0.1:${m.spec.metricsPort}/metrics`),
);
const revision = async () => Number((await client.kv.range({ key: Buffer.from('/') })).header.revision);
const samples: Sample[] = [];

/** Runs one measured load and records CPU per op and payments per transaction. */
async function measure(
  name: string,
  offered: Sample['offered'],
  load: () => Promise<LoadFigures>,
  payments = true,
  measured: CpuProbe[] = probes,
  withEtcdMetrics = false,
) {
  const rev0 = await revision();
  // etcd's figures are extra: a member whose /metrics cannot be read costs the row only them.
  const scraping =
    withEtcdMetrics &&
    (await etcdMetrics.start().then(
      () => true,
      (error: Error) => {
        log(`  warning: etcd /metrics not read: ${error.message}`);
        return false;
      },
    ));
  const cpu = cpuSnapshot(measured);
  const figures = await load();
  const used = cpu.since();
  const etcd = scraping
    ? await etcdMetrics.stop().catch((error: Error) => {
        log(`  warning: etcd /metrics not read: ${error.message}`);
        return undefined;
      })
    : undefined;
  const revisions = (await revision()) - rev0;
  const cpuUsPerOp = Object.fromEntries(
    Object.entries(used).map(([group, ms]) => [group, Math.round((ms * 1000) / Math.max(1, figures.ok))]),
  );
  const total = Object.values(used).reduce((a, b) => a + b, 0);
  const result: Sample = {
    name,
    offered,
    figures,
    paymentsPerTxn: payments && revisions > 0 ? figures.ok / revisions : undefined,
    cpuUsPerOp,
    cpuShareOfMachine: total / (figures.seconds * 1000 * cpus().length),
    etcd,
  };
  samples.push(result);
  log(
    `  ${name}: ${Math.round(figures.throughput)}/s, p50 ${figures.p50.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms, ${figures.errors} errors${figures.errors > 0 ? ` (${JSON.stringify(figures.errorsBy)})` : ''}`,
  );
  return result;
}

let sequenceOfIds = 0;
const nextPaymentRequest = (prefix: string) => () => {
  const n = sequenceOfIds++;
  const id = `${prefix}-${n}`;
  return { method: 'POST' as const, path: '/payments', body: paymentBody(id, n, 1000), expect: [201] };
};

let before: MemberSize[] = [];
const storageReport: Record<string, unknown> = {};
try {
  const targets = cluster.fleet.urls();
  log('warm-up: 3 s at 500/s end to end (JIT, connections) ...');
  await runHttpLoad({
    targets,
    ratePerSecond: 500,
    connections: 24,
    durationSeconds: 3,
    headers: authHeaders(cluster.adminKey),
    next: nextPaymentRequest(`w${stamp}`),
  });

  const ceiling = flags['skip-ceiling'] ? undefined : await startCeilingServers(targets.length, hostNodeArgs);
  try {
    const value = Buffer.from(paymentBody('raw', 1, 1000));
    const naive = new EtcdLedger({ client, root: NAIVE_ROOT, batching: false });
    const naiveKeys = keyLayout(NAIVE_ROOT);
    const committedAt = new Date().toISOString();
    /** POST /payments through `urls`, driven the same way for the hosts and the HTTP ceiling. */
    const httpLoad = (name: string, urls: string[], level: number | 'max') => () =>
      runHttpLoad({
        targets: urls,
        ratePerSecond: level === 'max' ? undefined : level,
        connections: level === 'max' ? maxConnections : 96,
        durationSeconds: seconds,
        headers: authHeaders(cluster.adminKey),
        next: nextPaymentRequest(`e${stamp}-${level}`),
        onProgress: progress(name, seconds),
      });
    // History reads straight from etcd, the range a history page starts with: linearizable (a
    // Raft ReadIndex round trip through the leader) versus serializable (the member's local state).
    const historyRange = (serializable: boolean) => (n: number) => {
      const prefix = naiveKeys.accountPrefix(`acct-${n % 1000}`);
      return client.kv.range({
        key: Buffer.from(prefix),
        range_end: prefixEnd(prefix),
        limit: 50,
        serializable,
      });
    };
    if (ceiling) {
      log('HTTP ceiling: warm-up (JIT, connections) ...');
      await httpLoad('HTTP ceiling warm-up', ceiling.urls, 'max')();
    }
    const ceilingProbes =
      ceiling && systemProbes(ceiling.processes.map((p) => ({ group: 'hosts', read: () => cpuMs(p.pid) })));
    /** What the raw puts of rounds after the first added to each member's db, left out of "grown". */
    const rawGrowth: number[] = [];

    for (let round = 1; round <= repeat; round++) {
      if (repeat > 1) log(`round ${round} of ${repeat}`);
      log(`raw etcd single puts, concurrency ${concurrency}, ${seconds} s ...`);
      const rawBefore = round > 1 && !flags['skip-storage'] ? await storage.sizes() : undefined;
      await measure(
        'raw etcd put',
        'closed-loop',
        () =>
          runClosedLoop(
            concurrency,
            seconds,
            (n) => client.put(`/bench/raw/${n}`).value(value).exec(),
            progress('raw puts', seconds),
          ),
        false,
      );
      if (!flags['skip-storage']) {
        if (round === 1) {
          log('storage: clearing raw puts, compacting and defragmenting for a clean start ...');
          await storage.deletePrefix('/bench/raw/');
          await storage.compactAndDefragment();
          before = await storage.sizes();
        } else {
          await storage.deletePrefix('/bench/raw/');
          (await storage.sizes()).forEach((s, i) => {
            rawGrowth[i] = (rawGrowth[i] ?? 0) + s.dbBytes - rawBefore![i]!.dbBytes;
          });
        }
      }

      log(
        `naive baseline: one create-if-absent txn per payment, concurrency ${concurrency}, ${seconds} s ...`,
      );
      await measure('naive baseline', 'closed-loop', () =>
        runClosedLoop(
          concurrency,
          seconds,
          (n) => {
            const id = `n${stamp}-${round}-${n}`;
            return naive.commit(JSON.parse(paymentBody(id, n, 1000)), { host: 'bench', committedAt });
          },
          progress('naive', seconds),
        ),
      );

      for (const level of levels) {
        const name = level === 'max' ? 'end to end, max' : `end to end @ ${level}/s`;
        log(`${name}: ${seconds} s through ${targets.length} hosts ...`);
        await measure(name, level, httpLoad(name, targets, level), true, probes, level === 'max');
      }

      if (ceiling && ceilingProbes) {
        const name = 'HTTP ceiling';
        log(`${name}: a bare Hono handler on the same adapter, one process per host, ${seconds} s ...`);
        await measure(name, 'max', httpLoad(name, ceiling.urls, 'max'), false, ceilingProbes);
      }

      for (const serializable of [false, true]) {
        const name = serializable ? 'history range, serializable' : 'history range, linearizable';
        log(`${name}: concurrency ${concurrency}, ${seconds} s ...`);
        await measure(
          name,
          'closed-loop',
          () => runClosedLoop(concurrency, seconds, historyRange(serializable)),
          false,
        );
      }
    }

    if (!flags['skip-storage']) {
      const payments = samples
        .filter((r) => r.name === 'naive baseline' || r.name.startsWith('end to end'))
        .reduce((s, r) => s + r.figures.ok, 0);
      const naivePayments = samples
        .filter((r) => r.name === 'naive baseline')
        .reduce((s, r) => s + r.figures.ok, 0);
      log(`storage: ${payments} payments written since the clean start; measuring ...`);
      const grown = (await storage.sizes()).map((s, i) => ({
        ...s,
        dbBytes: s.dbBytes - (rawGrowth[i] ?? 0),
      }));
      await storage.compactAndDefragment();
      const compacted = await storage.sizes();
      const deleted = await storage.deletePrefix(`${NAIVE_ROOT}/`);
      const afterDelete = await storage.sizes();
      await storage.compactAndDefragment();
      const afterRetention = await storage.sizes();
      const perPayment = (sizes: MemberSize[], count = payments) =>
        sizes.map((s, i) => ({
          member: s.member,
          dbBytesPerPayment: Math.round((s.dbBytes - before[i]!.dbBytes) / count),
          dirBytesPerPayment: Math.round((s.dirBytes - before[i]!.dirBytes) / count),
        }));
      const sum = (rows: { dbBytesPerPayment: number }[]) =>
        rows.reduce((s, r) => s + r.dbBytesPerPayment, 0);
      Object.assign(storageReport, {
        payments,
        // Archival moves end-to-end payments older than the hot window out of etcd during the run.
        hotWindow,
        before,
        grown,
        compacted,
        naiveKeysDeletedByRetention: deleted,
        afterDelete,
        afterRetention,
        perPaymentGrown: perPayment(grown),
        perPaymentCompacted: perPayment(compacted),
        replicatedDbBytesPerPaymentGrown: sum(perPayment(grown)),
        replicatedDbBytesPerPaymentCompacted: sum(perPayment(compacted)),
        dbBytesFreedPerDeletedPaymentBeforeCompaction: Math.round(
          (grown[0]!.dbBytes - afterDelete[0]!.dbBytes) / Math.max(1, naivePayments),
        ),
        dbBytesFreedPerDeletedPaymentAfterCompaction: Math.round(
          (compacted[0]!.dbBytes - afterRetention[0]!.dbBytes) / Math.max(1, naivePayments),
        ),
      });
    }
  } finally {
    await ceiling?.stop();
  }
} finally {
  storage.close();
  client.close();
  log('stopping the system ...');
  await stopAll();
}

// ---- report ----
const median = (values: (number | undefined)[]) => statOf(values.filter((v) => v !== undefined)).median;
const runs: RunResult[] = [...new Set(samples.map((s) => s.name))].map((name) => {
  const of = samples.filter((s) => s.name === name);
  const cpuStats = statsByKey(of.map((s) => s.cpuUsPerOp));
  const figureKeys = (Object.keys(of[0]!.figures) as (keyof LoadFigures)[]).filter((k) => k !== 'errorsBy');
  const figures = Object.fromEntries(
    figureKeys.map((k) => [k, median(of.map((s) => s.figures[k] as number))]),
  ) as unknown as LoadFigures;
  // The failures' causes are counted over all repeats (the other figures are medians of them).
  figures.errorsBy = {};
  for (const s of of)
    for (const [cause, n] of Object.entries(s.figures.errorsBy))
      figures.errorsBy[cause] = (figures.errorsBy[cause] ?? 0) + n;
  const perTxn = median(of.map((s) => s.paymentsPerTxn));
  return {
    name,
    offered: of[0]!.offered,
    figures,
    paymentsPerTxn: Number.isFinite(perTxn) ? perTxn : undefined,
    cpuUsPerOp: Object.fromEntries(Object.entries(cpuStats).map(([g, st]) => [g, st.median])),
    cpuShareOfMachine: median(of.map((s) => s.cpuShareOfMachine)),
    stats: {
      throughputPerS: statOf(of.map((s) => s.figures.throughput)),
      p50Ms: statOf(of.map((s) => s.figures.p50)),
      p99Ms: statOf(of.map((s) => s.figures.p99)),
      paymentsPerTxn: statOf(of.map((s) => s.paymentsPerTxn ?? Number.NaN)),
      cpuUsPerOp: cpuStats,
    },
  };
});
const etcdSamples = samples.flatMap((s) => (s.etcd ? [s.etcd as unknown as Record<string, number>] : []));
const etcdMetricsReport = etcdSamples.length > 0 ? statsByKey(etcdSamples) : undefined;
const baseline = runs.find((r) => r.name === 'naive baseline')!;
const e2e = runs.filter((r) => r.name.startsWith('end to end'));
const ceilingRun = runs.find((r) => r.name === 'HTTP ceiling');
const best = e2e.reduce((a, b) => (b.figures.throughput > a.figures.throughput ? b : a), e2e[0]!);
const ratio = best.figures.throughput / baseline.figures.throughput;
const at2000 = e2e.find((r) => r.offered === 2000);
const maxRun = e2e.find((r) => r.offered === 'max');

/** Issue 18's CPU budget per payment at the maximum, µs, per process group and for all of them. */
const CPU_TARGETS_US: Record<string, number> = { hosts: 120, 'etcd members': 130, 'load generator': 50 };
function cpuTargetLine(run: RunResult): string {
  const all = Object.values(run.cpuUsPerOp).reduce((a, b) => a + b, 0);
  const parts = Object.entries(CPU_TARGETS_US).map(
    ([group, target]) =>
      `${group} ${Math.round(run.cpuUsPerOp[group] ?? Number.NaN)} (≤ ${target}: ${(run.cpuUsPerOp[group] ?? Number.POSITIVE_INFINITY) <= target ? 'met' : 'NOT met'})`,
  );
  return `cpu µs per payment at max: all processes ${Math.round(all)} (≤ 300: ${all <= 300 ? 'met' : 'NOT met'}); ${parts.join(', ')}`;
}

const table = runs.map((r) =>
  figuresRow(r.name, r.figures, {
    'pay/txn': r.paymentsPerTxn === undefined ? '-' : r.paymentsPerTxn.toFixed(1),
    'vs naive': (r.figures.throughput / baseline.figures.throughput).toFixed(2),
    'cpu µs/op etcd·hosts·pg·chrony·loadgen': [
      'etcd members',
      'hosts',
      'postgres',
      'chrony',
      'load generator',
    ]
      .map((g) => (r.cpuUsPerOp[g] === undefined ? '-' : Math.round(r.cpuUsPerOp[g])))
      .join('·'),
    'cpu busy': `${Math.round(r.cpuShareOfMachine * 100)}%`,
  }),
);
console.log();
console.table(table);
const targetLines = [
  `end to end best: ${Math.round(best.figures.throughput)} payments/s (${best.name}); target ≥ 6000: ${best.figures.throughput >= 6000 ? 'met' : 'NOT met'}`,
  `ratio end to end / naive baseline: ${ratio.toFixed(2)}×; target ≥ 3× (issue 18): ${ratio >= 3 ? 'met' : 'NOT met'}`,
  ...(maxRun ? [cpuTargetLine(maxRun)] : []),
  at2000
    ? `p99 at 2000/s offered: ${at2000.figures.p99.toFixed(1)} ms (achieved ${Math.round(at2000.figures.throughput)}/s); target ≤ 50 ms: ${at2000.figures.p99 <= 50 ? 'met' : 'NOT met'}`
    : 'p99 at 2000/s: level not run',
  ...(ceilingRun
    ? [
        `end to end best / HTTP ceiling (${Math.round(ceilingRun.figures.throughput)}/s, a bare Hono handler): ${Math.round((best.figures.throughput / ceilingRun.figures.throughput) * 100)} %`,
      ]
    : []),
];
for (const line of targetLines) console.log(line);
if (etcdMetricsReport) {
  console.log('etcd during "end to end, max" (median over repeats):');
  console.table(Object.fromEntries(Object.entries(etcdMetricsReport).map(([k, st]) => [k, st.median])));
}
if (storageReport.payments) {
  console.log(
    `storage: ${storageReport.replicatedDbBytesPerPaymentGrown} db bytes per payment across ${members} replicas as written, ` +
      `${storageReport.replicatedDbBytesPerPaymentCompacted} after compaction + defrag`,
  );
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
mkdirSync(outDir, { recursive: true });
const { commit } = measurement;
const report = {
  ...measurement,
  tag,
  at: new Date().toISOString(),
  machine,
  // 1, 5 and 15 minute load averages at the end: the machine is shared; compare ratios of one run.
  loadAvg: loadavg().map((l) => Number(l.toFixed(2))),
  members,
  seconds,
  repeat,
  hotWindow,
  hostEnv,
  runs,
  ratio,
  targets: targetLines,
  etcdMetrics: etcdMetricsReport,
  storage: storageReport,
};
const base = `bench-${stamp}${tag ? `-${tag}` : ''}`;
const json = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(join(outDir, `${base}.json`), json);
if (flags.json) writeFileSync(resolve(flags.json), json);
const svg = latencyPlot({
  title: `Latency vs throughput, ${members} etcd members, 3 hosts (${tag || stamp})`,
  points: e2e.map((r) => ({ ...r.figures, label: String(r.offered) })),
  baseline: { throughput: baseline.figures.throughput, p99: baseline.figures.p99 },
});
writeFileSync(join(outDir, `${base}.svg`), svg);
writeFileSync(join(outDir, 'latency-vs-throughput.svg'), svg);
const header = Object.keys(table[0]!);
const md = [
  `Bench ${report.at} on ${machine} (load average ${report.loadAvg.join(', ')}), commit ${commit.slice(0, 12)}: \`${command}\`; ${members} etcd members, 3 hosts, ${seconds} s per run, ${repeat} round(s), medians shown, host settings ${JSON.stringify({ LEDGER_HOT_WINDOW: hotWindow, ...hostEnv })}.`,
  '',
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...table.map((row) => `| ${Object.values(row).join(' | ')} |`),
  '',
  ...targetLines.map((l) => `- ${l}`),
  '',
].join('\n');
writeFileSync(join(outDir, 'summary.md'), md);
log(`wrote ${join(outDir, `${base}.json`)}, ${join(outDir, `${base}.svg`)}, ${join(outDir, 'summary.md')}`);
if (flags.profile)
  log(
    `host cpu profiles in ${profileDir}; summarize with: npx tsx dev/bench/profile-summary.ts ${profileDir}`,
  );
process.exit(0);
