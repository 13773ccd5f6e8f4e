/**
 * Reads the raw outputs of one run (raw-files.ts refuses any of another run) and produces
 * values.json: every figure the templates quote, under the contract's keys (value-keys.ts), with
 * Stats rendered as `median (min–max)` and `KEY.median` beside them, and the tables as Markdown
 * fragments under `table.NAME`, each captioned with the command that measured it. Pure: nothing
 * here measures anything, so `--render-only` and the consistency test get the same answer.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import {
  archivalSchema,
  type BenchRaw,
  type BenchRun,
  benchSchema,
  chaosSchema,
  clocksSchema,
  electionsSchema,
  failoverSchema,
  partitionsSchema,
  readRaw,
  shardsSchema,
  timeSchema,
} from './raw-files';
import { formatNumber, formatStat, type Stat, stat, zipStat } from './stat';
import { markdownTable } from './template';
import { VALUE_KEYS } from './value-keys';

/** What the run itself knows (report.ts writes it to raw/run.json). */
export interface RunInfo {
  runId: string;
  commit: string;
  startedAt: string;
  machine: string;
  /** 1-minute load average sampled at the start and at the end of each step. */
  loadAvg: number[];
  minutes: number;
  mode: string;
}

export type Values = Record<string, string>;

/** Members of the redundancy comparison; each is one `bench --members N` raw file. */
export const REDUNDANCY_MEMBERS = [1, 3, 5] as const;
/** Repeats of measure:archival (storage-1.json ...). */
export const ARCHIVAL_FILES = ['storage-1.json', 'storage-2.json', 'storage-3.json'];

const ms = (s: Stat) => formatStat(s, s.median >= 100 ? 0 : 1);
/** The command as a reader would type it: without the run id and the report's scratch paths. */
export const displayCommand = (command: string) =>
  command
    .replace(/ --run-id \S+/g, '')
    .replace(/ --json \S+/g, ' --json FILE')
    .replace(/ --out \S+\.json\b/g, ' --out FILE')
    .replace(/ --out \S+/g, ' --out DIR')
    .replace(/ -- *$/, '');
const caption = (command: string, what: string) =>
  `_${what}. Command: \`${command.split('; ').map(displayCommand).join('`; `')}\`._\n\n`;
const sumStats = (stats: Stat[]) =>
  stat(stats[0]!.samples.map((_, i) => stats.reduce((sum, s) => sum + (s.samples[i] ?? s.median), 0)));

function row(bench: BenchRaw, name: string | ((r: BenchRun) => boolean)): BenchRun {
  const found = bench.runs.find((r) => (typeof name === 'string' ? r.name === name : name(r)));
  if (!found) throw new Error(`bench run "${String(name)}" missing from the raw bench output`);
  return found;
}
const cpuOf = (r: BenchRun, group: string) => r.stats.cpuUsPerOp[group];
const cpuAll = (r: BenchRun) => sumStats(Object.values(r.stats.cpuUsPerOp));

export function buildValues(rawDir: string, run: RunInfo): Values {
  const v: Values = {};
  const put = (key: string, s: Stat, format: (s: Stat) => string = (x) => formatStat(x)) => {
    v[key] = format(s);
    // The median alone, in the same format (unit, digits) as the whole figure.
    v[`${key}.median`] = format({
      median: s.median,
      min: s.median,
      max: s.median,
      samples: [s.median, s.median],
    }).replace(/ \([^)]*\)/, '');
  };
  /** a / b, run i of one against run i of the other (interleaved within a bench run, so alike in load). */
  const putRatio = (key: string, a: Stat, b: Stat) =>
    put(
      key,
      zipStat(a, b, (x, y) => x / y),
      (s) => formatStat(s, 2),
    );
  const raw = <S extends z.ZodType>(file: string, schema: S) => readRaw(rawDir, file, schema, run.runId);
  const loads = run.loadAvg;
  Object.assign(v, {
    'run.id': run.runId,
    'run.commit': run.commit,
    'run.date': `${run.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    'run.machine': run.machine,
    'run.loadAvg': `${formatNumber(loads[0]!, 2)} at start, ${formatNumber(loads.at(-1)!, 2)} at end, ${formatNumber(Math.max(...loads), 2)} at most`,
    'run.minutes': formatNumber(run.minutes, 0),
    mode: run.mode,
  });

  // ---- bench ----
  const bench = raw('bench.json', benchSchema);
  const naive = row(bench, 'naive baseline');
  const max = row(bench, 'end to end, max');
  const at2000 = row(bench, (r) => r.offered === 2000 || r.name === 'end to end @ 2000/s');
  const ceiling = row(bench, 'HTTP ceiling');
  put('bench.naive', naive.stats.throughputPerS);
  put('bench.e2eMax', max.stats.throughputPerS);
  putRatio('bench.ratio', max.stats.throughputPerS, naive.stats.throughputPerS);
  put('bench.at2000', at2000.stats.throughputPerS);
  put('bench.at2000P99', at2000.stats.p99Ms, ms);
  put('bench.maxP99', max.stats.p99Ms, ms);
  put('bench.ceiling', ceiling.stats.throughputPerS);
  put(
    'bench.ceilingShare',
    zipStat(max.stats.throughputPerS, ceiling.stats.throughputPerS, (a, b) => (100 * a) / b),
    (s) => `${formatStat(s, 0)} %`,
  );
  const groups: [string, string][] = [
    ['bench.cpuEtcd', 'etcd members'],
    ['bench.cpuHosts', 'hosts'],
    ['bench.cpuPg', 'postgres'],
    ['bench.cpuLoadgen', 'load generator'],
  ];
  for (const [key, group] of groups) {
    const s = cpuOf(max, group);
    if (s) put(key, s);
    else Object.assign(v, { [key]: 'not measured', [`${key}.median`]: 'not measured' });
  }
  put('bench.cpuTotal', cpuAll(max));
  v['bench.perTxn'] = max.paymentsPerTxn === undefined ? 'not measured' : formatNumber(max.paymentsPerTxn, 1);
  v['table.bench'] =
    caption(bench.command, `${bench.members} etcd members, ${bench.seconds} s per row; median (min–max)`) +
    markdownTable(
      bench.runs.map((r) => ({
        row: r.name,
        'ops/s': formatStat(r.stats.throughputPerS),
        'p50 ms': ms(r.stats.p50Ms),
        'p99 ms': ms(r.stats.p99Ms),
        'CPU µs/op, all processes': formatStat(cpuAll(r)),
        'payments/txn': r.paymentsPerTxn === undefined ? '-' : formatNumber(r.paymentsPerTxn, 1),
      })),
    );
  const m = bench.etcdMetrics;
  if (!m)
    throw new Error('bench.json has no etcdMetrics: the bench must scrape etcd during "end to end, max"');
  put('etcd.walFsyncP99', m.walFsyncP99Ms, ms);
  const peerRtt = m.peerRttP99Ms.median === null ? undefined : (m.peerRttP99Ms as Stat);
  const noPeerRtt = 'n/a (etcd 3.4 records it every 30 s; none fell in the row)';
  if (peerRtt) put('etcd.peerRttP99', peerRtt, ms);
  else v['etcd.peerRttP99'] = v['etcd.peerRttP99.median'] = noPeerRtt;
  put('etcd.proposalsPendingMax', m.proposalsPendingMax, (s) => formatStat(s, 0));
  put('etcd.leaderChanges', m.leaderChanges, (s) => formatStat(s, 0));
  v['table.etcdMetrics'] =
    caption(bench.command, 'etcd /metrics, deltas over the "end to end, max" row; median (min–max)') +
    markdownTable(
      (
        [
          ['WAL fsync p99, ms', m.walFsyncP99Ms],
          ['backend commit p99, ms', m.backendCommitP99Ms],
          ['peer round trip p99, ms', peerRtt],
          ['proposals pending, max', m.proposalsPendingMax],
          ['proposals committed', m.proposalsCommitted],
          ['proposals failed', m.proposalsFailed],
          ['leader changes', m.leaderChanges],
        ] as const
      ).map(([metric, s]) => ({
        metric,
        value: !s ? noPeerRtt : metric.includes('ms') ? ms(s) : formatStat(s, 0),
      })),
    );

  // ---- optimization: group commit off (its own bench run) against on (the bench's max row) ----
  const offBench = raw('bench-no-batching.json', benchSchema);
  const off = row(offBench, 'end to end, max');
  put('opt.before', off.stats.throughputPerS);
  put('opt.after', max.stats.throughputPerS);
  putRatio('opt.gain', max.stats.throughputPerS, off.stats.throughputPerS);
  const offCommand = offBench.command;
  v['table.optimization'] =
    caption(`${offCommand}; ${bench.command}`, 'Group commit off, then on, at maximum load') +
    markdownTable(
      (
        [
          ['one transaction per payment', off],
          ['group commit', max],
        ] as const
      ).map(([label, r]) => ({
        hosts: label,
        'payments/s': formatStat(r.stats.throughputPerS),
        'p99 ms': ms(r.stats.p99Ms),
        'payments/txn': r.paymentsPerTxn === undefined ? '-' : formatNumber(r.paymentsPerTxn, 1),
        'etcd CPU µs/payment': cpuOf(r, 'etcd members') ? formatStat(cpuOf(r, 'etcd members')!) : '-',
      })),
    );

  // ---- redundancy: 1, 3, 5 members ----
  const redundancyRows = REDUNDANCY_MEMBERS.map((n) => {
    const b = raw(`redundancy-m${n}.json`, benchSchema);
    const r = row(b, 'end to end, max');
    const perMember = b.storage?.perPaymentGrown?.map((x) => x.dbBytesPerPayment) ?? [];
    if (perMember.length === 0) throw new Error(`redundancy-m${n}.json has no storage.perPaymentGrown`);
    put(`redundancy.m${n}.rate`, r.stats.throughputPerS);
    put(`redundancy.m${n}.p99`, r.stats.p99Ms, ms);
    put(`redundancy.m${n}.cpu`, cpuAll(r));
    put(`redundancy.m${n}.bytes`, stat(perMember), (s) => formatStat(s, 0, '1 member'));
    return { n, b, r, bytes: stat(perMember) };
  });
  v['table.redundancy'] =
    caption(
      redundancyRows.map((x) => x.b.command).join('; '),
      'The same load at maximum over 1, 3 and 5 etcd members; bytes: median (min–max) over the members',
    ) +
    markdownTable(
      redundancyRows.map(({ n, r, bytes }) => ({
        'etcd members': n,
        'payments/s': formatStat(r.stats.throughputPerS),
        'p99 ms': ms(r.stats.p99Ms),
        'CPU µs/payment, all processes': formatStat(cpuAll(r)),
        'etcd bytes/payment per member': formatStat(bytes, 0, '1 member'),
      })),
    );

  // ---- storage: two tiers (measure:archival, repeated) ----
  const archival = ARCHIVAL_FILES.filter((f) => existsSync(join(rawDir, f))).map((f) =>
    raw(f, archivalSchema),
  );
  if (archival.length === 0) throw new Error('no storage-N.json (measure:archival) in raw/');
  const over = (f: (a: (typeof archival)[number]) => number) => stat(archival.map(f));
  const storage: [string, string, Stat, (s: Stat) => string][] = [
    [
      'storage.etcdBytesPerPayment',
      'etcd bytes/payment per member',
      over((a) => a.etcdBytesPerPaymentPerMember),
      (s) => formatStat(s),
    ],
    [
      'storage.pgBytesPerPayment',
      'PostgreSQL bytes/payment',
      over((a) => a.pgBytesPerPayment),
      (s) => formatStat(s),
    ],
    ['storage.commitRate', 'commit rate, payments/s', over((a) => a.commitPerSecond), (s) => formatStat(s)],
    [
      'storage.archivalRate',
      'archival rate, payments/s',
      over((a) => a.archivedPerSecond),
      (s) => formatStat(s),
    ],
    ['storage.historyHotP50', 'history page p50, hot (etcd), ms', over((a) => a.historyHotP50Ms), ms],
    [
      'storage.historyArchivedP50',
      'history page p50, archived (PostgreSQL), ms',
      over((a) => a.historyArchivedP50Ms),
      ms,
    ],
    [
      'storage.etcdDbMaxMb',
      'etcd db size, largest member, MB',
      over((a) => a.etcdDbMaxBytes / 1e6),
      (s) => formatStat(s, 1),
    ],
    [
      'storage.quotaMb',
      'etcd backend quota, MB',
      over((a) => a.quotaBytes / 1e6),
      (s) => formatNumber(s.median, 0),
    ],
  ];
  for (const [key, , s, f] of storage) put(key, s, f);
  v['table.storage'] =
    caption(
      archival[0]!.command,
      `${archival[0]!.payments} payments per run, ${archival.length} runs; median (min–max)`,
    ) + markdownTable(storage.map(([, figure, s, f]) => ({ figure, value: f(s) })));

  // ---- time (measure:time) ----
  const time = raw('time.json', timeSchema);
  const worst = (condition: string, f: (a: (typeof time.accuracy)[number]) => number) => {
    const rows = time.accuracy.filter((a) => a.condition === condition);
    if (rows.length === 0) throw new Error(`time.json has no accuracy under "${condition}"`);
    return Math.max(...rows.map(f));
  };
  v['time.loopbackMaxErr'] = formatNumber(worst('loopback', (a) => a.maxAbsErrorMs));
  v['time.delayMaxErr'] = formatNumber(worst('5±2 ms delay', (a) => a.maxAbsErrorMs));
  v['time.delayBound'] = formatNumber(worst('5±2 ms delay', (a) => a.boundMs));
  v['time.leaderKillStep'] = formatNumber(time.leaderKill.clockStepMs);
  v['time.leaderKillInversions'] = String(time.leaderKill.committedAtInversions);
  v['table.time'] =
    caption(time.command, 'Clock error against true time, per condition and time master') +
    markdownTable(
      time.accuracy.map((a) => ({
        condition: a.condition,
        'time master': a.leader,
        'largest error, ms': formatNumber(a.maxAbsErrorMs),
        'bound ms': formatNumber(a.boundMs),
        'within bound': a.withinBound ? 'yes' : 'NO',
      })),
    );
  v['table.overhead'] =
    caption(time.command, 'Accuracy against overhead, by Berkeley interval') +
    markdownTable(
      time.overhead.map((o) => ({
        'interval ms': o.intervalMs,
        'error p99 ms': formatNumber(o.errorP99Ms),
        'CPU ms/s': formatNumber(o.cpuMsPerS),
        'messages/s': formatNumber(o.messagesPerS),
      })),
    );
  // The default interval's row (1 s) is the cost the system pays; the nearest one if absent.
  const oneSecond = [...time.overhead].sort(
    (a, b) => Math.abs(a.intervalMs - 1000) - Math.abs(b.intervalMs - 1000),
  )[0];
  if (!oneSecond) throw new Error('time.json has no overhead rows');
  v['clocks.syncCpu'] = formatNumber(oneSecond.cpuMsPerS);

  // ---- clocks (measure:clocks) ----
  const clocks = raw('clocks.json', clocksSchema);
  const skew = (sync: 'off' | 'on') => {
    const r = clocks.skew.find((s) => s.sync === sync);
    if (!r) throw new Error(`clocks.json has no skew row with sync ${sync}`);
    return r;
  };
  v['clocks.pairs'] = formatNumber(skew('off').pairs, 0);
  v['clocks.inversionsOff'] = formatNumber(skew('off').inversions, 0);
  v['clocks.inversionsOn'] = formatNumber(skew('on').inversions, 0);
  v['clocks.lateEvents'] = formatNumber(clocks.reordering.lateEvents, 0);
  put('clocks.delayAdded', clocks.reordering.delayAddedMs, ms);
  v['clocks.recorrected'] = formatNumber(clocks.reordering.recorrected, 0);
  v['table.clocks'] =
    caption(clocks.command, 'Clock skew against etcd commit order, then the event log merge') +
    markdownTable(
      clocks.skew.map((s) => ({
        sync: s.sync,
        payments: s.payments,
        'committedAt inversions (pairs)': `${s.inversions} of ${s.pairs}`,
        'adjacent inversions': s.adjacentInversions,
        'HLC inversions': s.hlcInversions,
      })),
    ) +
    '\n' +
    markdownTable([
      {
        events: clocks.reordering.events,
        'late (behind the watermark)': clocks.reordering.lateEvents,
        'delay added by the buffer, ms': ms(clocks.reordering.delayAddedMs),
        'watermark lag, ms': ms(clocks.reordering.watermarkLagMs),
        recorrected: clocks.reordering.recorrected,
      },
    ]);

  // ---- elections ----
  const elections = raw('elections.json', electionsSchema);
  const times = elections.kills.map((k) => k.electionMs);
  const sorted = [...times].sort((a, b) => a - b);
  const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!;
  Object.assign(v, {
    'elections.kills': String(times.length),
    'elections.median': formatNumber(stat(times).median, 0),
    'elections.p90': formatNumber(p90, 0),
    'elections.max': formatNumber(sorted.at(-1)!, 0),
  });
  v['table.elections'] =
    caption(
      elections.command,
      `etcd leader SIGKILL → new leader seen by status, ${elections.members} members`,
    ) +
    markdownTable([
      {
        kills: times.length,
        'min ms': formatNumber(sorted[0]!, 0),
        'median ms': v['elections.median']!,
        'p90 ms': v['elections.p90']!,
        'max ms': v['elections.max']!,
      },
    ]);

  // ---- failover, partitions ----
  const f = raw('failover.json', failoverSchema);
  const fs = (s: { runs: number[] }) => stat(s.runs);
  const failover: [string, string, { runs: number[] }][] = [
    ['failover.hostDetection', 'host SIGKILL → gone from the live set', f.hostDetectionMs],
    ['failover.hostGap', 'host SIGKILL → longest client-visible gap', f.hostKillGapMs],
    ['failover.reelection', 'leader host SIGKILL → new leader host', f.leaderReelectionMs],
    ['failover.etcdDetection', 'etcd member SIGSTOP → shown unhealthy', f.etcdMemberDetectionMs],
    ['failover.etcdGap', 'etcd leader SIGKILL → longest client-visible gap', f.etcdLeaderKillGapMs],
  ];
  for (const [key, , s] of failover) put(key, fs(s), ms);
  v['table.failover'] =
    caption(f.command, `${f.runs} runs per fault; median (min–max), ms`) +
    markdownTable([
      ...failover.map(([, figure, s]) => ({ figure, ms: ms(fs(s)) })),
      { figure: 'payment p99, all members up', ms: ms(fs(f.latencyHealthyMs.p99)) },
      { figure: 'payment p99, one member down', ms: ms(fs(f.latencyOneMemberDownMs.p99)) },
    ]);
  const p = raw('partitions.json', partitionsSchema);
  const worstHeal = p.faults.reduce((a, b) =>
    stat(b.afterHealMs).median > stat(a.afterHealMs).median ? b : a,
  );
  put('partitions.recovery', stat(worstHeal.afterHealMs), ms);
  v['table.partitions'] =
    caption(
      p.command,
      `${p.runs} runs per fault, election timeout ${p.electionTimeoutMs} ms; longest stretch without a commit, median (min–max), ms`,
    ) +
    markdownTable(
      p.faults.map((x) => ({
        fault: x.describe,
        'during the fault': `${ms(stat(x.duringMs))}; target ${formatNumber(x.target.during, 0)}`,
        'after the heal': `${ms(stat(x.afterHealMs))}; target ${formatNumber(x.target.afterHeal, 0)}`,
        'new etcd leader after': x.electedAfterMs.length ? ms(stat(x.electedAfterMs)) : '-',
      })),
    );

  // ---- chaos ----
  const c = raw('chaos.json', chaosSchema);
  const kinds = [...new Set(c.impacts.map((i) => i.kind))];
  Object.assign(v, {
    'chaos.seconds': formatNumber(c.durationMs / 1000, 0),
    'chaos.seed': String(c.seed),
    'chaos.operations': formatNumber(c.operations, 0),
    'chaos.acknowledged': formatNumber(c.acknowledged, 0),
    'chaos.indeterminate': formatNumber(c.indeterminate, 0),
    'chaos.violations': String(c.violations.length),
    'chaos.faults': String(c.impacts.length),
    'chaos.kinds': kinds.join(', '),
    'chaos.reads': formatNumber(c.readsChecked, 0),
  });
  v['table.chaos'] =
    caption(c.command, `${v['chaos.seconds']} s, seed ${c.seed}`) +
    markdownTable([
      {
        operations: c.operations,
        acknowledged: c.acknowledged,
        'failed (definite)': c.failed,
        indeterminate: c.indeterminate,
        'reads under faults checked / failed': `${c.readsChecked} / ${c.readsFailed}`,
        'records read back': c.recordsRead,
        'checker violations': c.violations.length,
      },
    ]) +
    '\n' +
    markdownTable(
      kinds.map((kind) => {
        const of = c.impacts.filter((i) => i.kind === kind);
        const rec = of.flatMap((i) => (i.recoveryS === undefined ? [] : [i.recoveryS]));
        return {
          fault: kind,
          count: of.length,
          'throughput dip, median': `${formatNumber(100 * stat(of.map((i) => i.dip)).median, 0)} %`,
          'back after heal, s': rec.length ? formatStat(stat(rec), 1) : 'n/a',
        };
      }),
    );

  // ---- shards ----
  const sh = raw('shards.json', shardsSchema);
  put('shards.one', sh.one);
  put('shards.two', sh.two);
  putRatio('shards.gain', sh.two, sh.one);
  v['table.shards'] =
    caption(
      sh.command,
      `${sh.seconds} s per run, ${sh.concurrency} concurrent commits in total; median (min–max)`,
    ) +
    markdownTable([
      { 'etcd clusters (hash-sharded by payment id)': 1, 'payments/s': v['shards.one']! },
      { 'etcd clusters (hash-sharded by payment id)': 2, 'payments/s': v['shards.two']! },
    ]) +
    '\n' +
    markdownTable(
      sh.balance.map((b) => ({
        shards: b.shards,
        'random ids': b.ids,
        'largest shard / mean': b.maxOverMean.toFixed(3),
        'smallest shard / mean': b.minOverMean.toFixed(3),
      })),
    );
  for (const key of Object.keys(v)) if (key.startsWith('table.')) v[key] = v[key]!.trimEnd();
  checkKeys(v);
  return v;
}

/** values.json must hold exactly the contract's keys (and KEY.median beside a Stat's KEY). */
export function checkKeys(values: Values): void {
  const allowed = new Set<string>(VALUE_KEYS);
  const missing = VALUE_KEYS.filter((k) => values[k] === undefined);
  const extra = Object.keys(values).filter(
    (k) => !allowed.has(k) && !(k.endsWith('.median') && allowed.has(k.slice(0, -'.median'.length))),
  );
  if (missing.length || extra.length)
    throw new Error(
      `values do not match the contract: missing ${missing.join(', ') || 'none'}; extra ${extra.join(', ') || 'none'}`,
    );
}
