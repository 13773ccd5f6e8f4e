/**
 * Turns the raw outputs of the measurement commands (kept in docs/generated/report-figures/raw/) into the
 * Markdown tables under docs/generated/report-figures/ and into the named values the report and slides
 * templates quote. Everything here is a pure reading of those files; nothing is measured.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from './template';

/* Shapes of the files the commands write, as far as the report reads them. */
interface Figures {
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
}
interface BenchRun {
  name: string;
  offered?: number;
  figures: Figures;
  paymentsPerTxn?: number;
  cpuUsPerOp: Record<string, number>;
  cpuShareOfMachine: number;
}
interface BenchReport {
  seconds: number;
  members: number;
  hostEnv: Record<string, string>;
  runs: BenchRun[];
  ratio: number;
  targets: string[];
  storage: Record<string, unknown>;
}
interface Impact {
  kind: string;
  dip: number;
  worstSecondDip: number;
  recoveryS?: number;
  healthyAfterS?: number;
}
interface ChaosSummary {
  seed: number;
  durationMs: number;
  operations: number;
  acknowledged: number;
  failed: number;
  conflicts: number;
  indeterminate: number;
  recordsRead: number;
  violations: unknown[];
  impacts: Impact[];
}
interface Summary {
  min: number;
  median: number;
  max: number;
  runs: number[];
}
interface Failover {
  runs: number;
  hostDetectionMs: Summary;
  hostKillGapMs: Summary;
  leaderReelectionMs: Summary;
  etcdMemberDetectionMs: Summary;
  etcdLeaderKillGapMs: Summary;
  latencyHealthyMs: { p50: Summary; p99: Summary };
  latencyOneMemberDownMs: { p50: Summary; p99: Summary };
  redundancy:
    | {
        etcdMembers: number;
        throughputPerSecond: number;
        p50Ms: number;
        p99Ms: number;
        backendInUseGrowthBytesAllMembers: number;
        payments: number;
      }[]
    | { error: string };
}
interface Shards {
  seconds: number;
  concurrency: number;
  runs: ({ clusters: number; concurrency: number } & Figures)[];
  balance: { shards: number; ids: number; maxOverMean: number; minOverMean: number }[];
}

export interface Rendered {
  /** Fragment file name (under docs/generated/report-figures/) → Markdown. */
  fragments: Record<string, string>;
  /** Placeholder name → value, for the templates. */
  values: Record<string, string | number>;
}

const r0 = (x: number) => Math.round(x);
const r1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${Math.round(x * 100)} %`;
const read = <T>(dir: string, name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

export function renderFigures(rawDir: string, machineLine: string, cores: number): Rendered {
  const fragments: Record<string, string> = {};
  const values: Record<string, string | number> = {
    machine: machineLine,
    'machine.cores': cores,
    'machine.cpuUsPerSecond': (cores * 1e6).toLocaleString('en-US'),
  };
  const caption = (what: string) => `_${what}. Machine: ${machineLine}._\n\n`;

  // ---- bench (with group commit), and the same hosts without it ----
  const bench = read<BenchReport>(rawDir, 'bench.json');
  const noBatch = read<BenchReport>(rawDir, 'bench-no-batching.json');
  const run = (b: BenchReport, name: string) => b.runs.find((r) => r.name === name);
  const e2e = bench.runs.filter((r) => r.name.startsWith('end to end'));
  const best = e2e.reduce((a, b) => (b.figures.throughput > a.figures.throughput ? b : a));
  const naive = run(bench, 'naive baseline')!;
  const raw = run(bench, 'raw etcd put')!;
  const at2000 = e2e.find((r) => r.offered === 2000);
  const noBatchMax = run(noBatch, 'end to end, max')!;
  const withBatchMax = run(bench, 'end to end, max')!;
  fragments['bench.md'] =
    caption(`npm run bench, ${bench.seconds} s per run, ${bench.members} etcd members, 3 hosts`) +
    markdownTable(
      bench.runs.map((r) => ({
        run: r.name,
        'ops/s': r0(r.figures.throughput),
        'p50 ms': r1(r.figures.p50),
        'p99 ms': r1(r.figures.p99),
        errors: r.figures.errors,
        'payments/txn': r.paymentsPerTxn === undefined ? '-' : r1(r.paymentsPerTxn),
        'CPU µs/op etcd · hosts · load gen': `${r.cpuUsPerOp['etcd members']} · ${r.cpuUsPerOp.hosts} · ${r.cpuUsPerOp['load generator']}`,
        'machine CPU busy': pct(r.cpuShareOfMachine),
      })),
    ) +
    `\n${bench.targets.map((t) => `- ${t}`).join('\n')}\n`;
  fragments['optimization.md'] =
    caption(
      'Group commit before/after: the same three hosts at maximum load, npm run bench with --no-batching, then with defaults',
    ) +
    markdownTable(
      [
        ['one txn per payment (--no-batching)', noBatchMax],
        ['group commit (defaults)', withBatchMax],
      ].map(([label, r]) => {
        const x = r as BenchRun;
        return {
          hosts: label as string,
          'payments/s': r0(x.figures.throughput),
          'p50 ms': r1(x.figures.p50),
          'p99 ms': r1(x.figures.p99),
          'payments/txn': x.paymentsPerTxn === undefined ? '-' : r1(x.paymentsPerTxn),
          'etcd CPU µs/payment': x.cpuUsPerOp['etcd members'] ?? '-',
          'host CPU µs/payment': x.cpuUsPerOp.hosts ?? '-',
        };
      }),
    );
  Object.assign(values, {
    'bench.seconds': bench.seconds,
    'bench.best': r0(best.figures.throughput),
    'bench.bestName': best.name,
    'bench.e2eErrors': e2e.reduce((sum, r) => sum + r.figures.errors, 0),
    'bench.bestP99': r1(best.figures.p99),
    'bench.naive': r0(naive.figures.throughput),
    'bench.raw': r0(raw.figures.throughput),
    'bench.linRange': r0(run(bench, 'history range, linearizable')?.figures.throughput ?? Number.NaN),
    'bench.serRange': r0(run(bench, 'history range, serializable')?.figures.throughput ?? Number.NaN),
    'bench.ratio': bench.ratio.toFixed(2),
    'bench.at2000': at2000 ? r0(at2000.figures.throughput) : 'not run',
    'bench.at2000p99': at2000 ? r1(at2000.figures.p99) : 'not run',
    'bench.bestCpuBusy': pct(best.cpuShareOfMachine),
    'bench.cpuCap': r0(
      (cores * 1e6) /
        ((best.cpuUsPerOp['etcd members'] ?? 0) +
          (best.cpuUsPerOp.hosts ?? 0) +
          (best.cpuUsPerOp['load generator'] ?? 0)),
    ),
    'bench.bestCpuEtcd': best.cpuUsPerOp['etcd members'] ?? '-',
    'bench.bestCpuHosts': best.cpuUsPerOp.hosts ?? '-',
    'bench.bestCpuLoadgen': best.cpuUsPerOp['load generator'] ?? '-',
    'bench.bestPerTxn': best.paymentsPerTxn === undefined ? '-' : r1(best.paymentsPerTxn),
    'opt.before': r0(noBatchMax.figures.throughput),
    'opt.after': r0(withBatchMax.figures.throughput),
    'opt.gain': (withBatchMax.figures.throughput / noBatchMax.figures.throughput).toFixed(2),
    'opt.beforeP99': r1(noBatchMax.figures.p99),
    'opt.afterP99': r1(withBatchMax.figures.p99),
    'opt.afterPerTxn': withBatchMax.paymentsPerTxn === undefined ? '-' : r1(withBatchMax.paymentsPerTxn),
    'opt.beforeEtcdCpu': noBatchMax.cpuUsPerOp['etcd members'] ?? '-',
    'opt.afterEtcdCpu': withBatchMax.cpuUsPerOp['etcd members'] ?? '-',
  });
  const storage = bench.storage as Record<string, number | undefined>;
  values['storage.grown'] = storage.replicatedDbBytesPerPaymentGrown ?? 'not measured';
  values['storage.compacted'] = storage.replicatedDbBytesPerPaymentCompacted ?? 'not measured';
  const perMember =
    storage.replicatedDbBytesPerPaymentGrown === undefined
      ? undefined
      : storage.replicatedDbBytesPerPaymentGrown / bench.members;
  values['storage.millionsPer8GiB'] = perMember === undefined ? 'n/a' : r0((8 * 2 ** 30) / perMember / 1e6);
  values['storage.perMemberGrown'] =
    storage.replicatedDbBytesPerPaymentGrown === undefined
      ? 'not measured'
      : r0(storage.replicatedDbBytesPerPaymentGrown / bench.members);

  // ---- chaos ----
  const chaos = read<ChaosSummary>(rawDir, 'chaos-summary.json');
  const kinds = [...new Set(chaos.impacts.map((i) => i.kind))];
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  fragments['chaos.md'] =
    caption(`npm run chaos, ${r0(chaos.durationMs / 1000)} s, seed ${chaos.seed}`) +
    markdownTable([
      {
        operations: chaos.operations,
        acknowledged: chaos.acknowledged,
        'failed (definite)': chaos.failed,
        'of which 409': chaos.conflicts,
        indeterminate: chaos.indeterminate,
        'records read back': chaos.recordsRead,
        'checker violations': chaos.violations.length,
      },
    ]) +
    '\n' +
    markdownTable(
      kinds.map((kind) => {
        const of = chaos.impacts.filter((i) => i.kind === kind);
        const rec = of.flatMap((i) => (i.recoveryS === undefined ? [] : [i.recoveryS]));
        return {
          fault: kind,
          count: of.length,
          'mean throughput dip': pct(avg(of.map((i) => i.dip))),
          'worst second': pct(Math.max(...of.map((i) => i.worstSecondDip))),
          'throughput back after heal (s, mean)': rec.length ? r1(avg(rec)) : 'n/a',
        };
      }),
    );
  Object.assign(values, {
    'chaos.seconds': r0(chaos.durationMs / 1000),
    'chaos.seed': chaos.seed,
    'chaos.operations': chaos.operations,
    'chaos.acknowledged': chaos.acknowledged,
    'chaos.indeterminate': chaos.indeterminate,
    'chaos.violations': chaos.violations.length,
    'chaos.faults': chaos.impacts.length,
    'chaos.kinds': kinds.join(', '),
  });

  // ---- clocks (the command prints Markdown tables; embedded as printed) ----
  const clocks = readFileSync(join(rawDir, 'clocks.md'), 'utf8');
  fragments['clocks.md'] =
    caption('npm run measure:clocks') + clocks.replace(/^# .*\n/, '').replace(/^## /gm, '#### ');

  values['clocks.syncCpu'] = /CPU attributable to synchronization: ([\d.]+) ms/.exec(clocks)?.[1] ?? 'n/a';

  // ---- failover ----
  const f = read<Failover>(rawDir, 'failover.json');
  const s = (x: Summary) => (f.runs > 1 ? `${x.median} (${x.min}–${x.max})` : `${x.median}`);
  fragments['failover.md'] =
    caption(`npm run measure:failover, ${f.runs} run(s) per fault; median (min–max) in ms`) +
    markdownTable([
      { figure: 'host SIGKILL → gone from /cluster live set', ms: s(f.hostDetectionMs) },
      { figure: 'host SIGKILL → longest client-visible gap (PaymentsClient)', ms: s(f.hostKillGapMs) },
      { figure: 'leader host SIGKILL → new leader elected', ms: s(f.leaderReelectionMs) },
      { figure: 'etcd member SIGSTOP → shown unhealthy', ms: s(f.etcdMemberDetectionMs) },
      { figure: 'etcd leader SIGKILL → longest client-visible gap', ms: s(f.etcdLeaderKillGapMs) },
      {
        figure: 'payment p50 / p99, all members up',
        ms: `${s(f.latencyHealthyMs.p50)} / ${s(f.latencyHealthyMs.p99)}`,
      },
      {
        figure: 'payment p50 / p99, one member down',
        ms: `${s(f.latencyOneMemberDownMs.p50)} / ${s(f.latencyOneMemberDownMs.p99)}`,
      },
    ]);
  Object.assign(values, {
    'failover.runs': f.runs,
    'failover.hostDetection': f.hostDetectionMs.median,
    'failover.hostGap': f.hostKillGapMs.median,
    'failover.reelection': f.leaderReelectionMs.median,
    'failover.etcdDetection': f.etcdMemberDetectionMs.median,
    'failover.etcdGap': f.etcdLeaderKillGapMs.median,
    'failover.p99Healthy': f.latencyHealthyMs.p99.median,
    'failover.p99Degraded': f.latencyOneMemberDownMs.p99.median,
  });
  if (Array.isArray(f.redundancy)) {
    fragments['redundancy.md'] =
      caption(
        'Redundancy overhead, from npm run measure:failover: the same payments through 2 hosts over 1 or 3 etcd members',
      ) +
      markdownTable(
        f.redundancy.map((r) => ({
          'etcd members': r.etcdMembers,
          payments: r.payments,
          'payments/s': r.throughputPerSecond,
          'p50 ms': r.p50Ms,
          'p99 ms': r.p99Ms,
          'backend growth, all members (bytes)': r.backendInUseGrowthBytesAllMembers,
        })),
      );
    const one = f.redundancy.find((r) => r.etcdMembers === 1);
    const three = f.redundancy.find((r) => r.etcdMembers === 3);
    values['redundancy.one'] = one?.throughputPerSecond ?? 'n/a';
    values['redundancy.three'] = three?.throughputPerSecond ?? 'n/a';
  } else {
    fragments['redundancy.md'] = `Redundancy measurement failed: ${f.redundancy.error}\n`;
    values['redundancy.one'] = 'n/a';
    values['redundancy.three'] = 'n/a';
  }

  // ---- sharding ----
  const sh = read<Shards>(rawDir, 'shards.json');
  const one = sh.runs.find((r) => r.clusters === 1)!;
  const two = sh.runs.find((r) => r.clusters === 2 && r.concurrency === one.concurrency)!;
  const twoFull = sh.runs.find((r) => r.clusters === 2 && r.concurrency === 2 * one.concurrency)!;
  fragments['shards.md'] =
    caption(
      `dev/report/measure-shards.ts: ledger commits (group commit on) from one process, ${sh.seconds} s per run, against single-member etcd clusters`,
    ) +
    markdownTable(
      sh.runs.map((r) => ({
        'etcd clusters (hash-sharded by payment id)': r.clusters,
        'concurrent commits': r.concurrency,
        'payments/s': r0(r.throughput),
        'p50 ms': r1(r.p50),
        'p99 ms': r1(r.p99),
        errors: r.errors,
      })),
    ) +
    '\n' +
    markdownTable(
      sh.balance.map((b) => ({
        shards: b.shards,
        'random payment ids': b.ids,
        'largest shard / mean': b.maxOverMean.toFixed(3),
        'smallest shard / mean': b.minOverMean.toFixed(3),
      })),
    );
  const worst = sh.balance.reduce((a, b) => (b.maxOverMean > a.maxOverMean ? b : a));
  Object.assign(values, {
    'shards.one': r0(one.throughput),
    'shards.two': r0(two.throughput),
    'shards.gain': (two.throughput / one.throughput).toFixed(2),
    'shards.twoFull': r0(twoFull.throughput),
    'shards.gainFull': (twoFull.throughput / one.throughput).toFixed(2),
    'shards.concurrency': one.concurrency,
    'shards.worstImbalance': `${((worst.maxOverMean - 1) * 100).toFixed(1)} %`,
    'shards.worstShards': worst.shards,
  });
  return { fragments, values };
}
