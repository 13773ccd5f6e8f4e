/**
 * `npm run soak -- --duration 10m` (issue 14, §9 and the figures of §8): starts a fresh cluster
 * (three etcd members with a small quota, a PostgreSQL primary and synchronous standby, three
 * hosts with a short hot window), drives a steady rate of payments through PaymentsClient while
 * archival runs, retries archived ids meanwhile, kills the leader between an archival insert and
 * its removal, stops PostgreSQL for a while, then checks that etcd stayed under its quota, that
 * every acknowledged payment reads back on every host and appears in both accounts' histories
 * exactly once, and that retries of archived payments replay. Prints progress, the figures as a
 * table and as JSON (last line); exits 1 on any violation. Everything it starts, it stops.
 *
 *   --duration DUR      how long the load runs (10m, 3m, 90s)       default 10m
 *   --rate N            payments/s offered                          default 150
 *   --quota-bytes N     etcd's quota                                default 67108864 (64 MiB)
 *   --hot-window DUR    LEDGER_HOT_WINDOW                           default 5s
 *   --outage DUR        how long PostgreSQL stays stopped           default a tenth of the run, 5-30 s
 *   --keep-dir          keep the cluster's directory (logs)
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../functions/config';
import { runSoak } from './soak/run-soak';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    rate: { type: 'string', default: '150' },
    'quota-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
    'hot-window': { type: 'string', default: '5s' },
    outage: { type: 'string' },
    'keep-dir': { type: 'boolean', default: false },
  },
});
const durationMs = parseDuration(values.duration);
const outageMs = values.outage === undefined ? undefined : parseDuration(values.outage);
if (durationMs === undefined || durationMs <= 0 || (values.outage !== undefined && outageMs === undefined)) {
  console.error(`bad --duration ${values.duration} or --outage ${values.outage}`);
  process.exit(2);
}
// Ctrl-C or SIGTERM: exit, so the process registry (managed-process.ts) kills what was started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
const started = Date.now();
const log = (line: string) => console.log(`[soak +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
const report = await runSoak({
  durationMs,
  rate: Number(values.rate),
  quotaBytes: Number(values['quota-bytes']),
  hotWindow: values['hot-window'],
  outageMs,
  keepDir: values['keep-dir'],
  log,
});
const MiB = 1024 * 1024;
const rows: [string, string][] = [
  [
    'payments acknowledged',
    `${report.acknowledged} (${report.load.committed} 201, ${report.load.replayedOwn} replayed own attempt; ${report.load.failed} unknown, ${report.load.refused} refused, ${report.load.skipped} slots skipped)`,
  ],
  ['archived to PostgreSQL', String(report.archived)],
  ['commit rate', `${report.commitPerSecond} payments/s`],
  [
    'archival rate',
    `${report.archivalPerSecond} payments/s over the load; best 5 s catching up ${report.archivalPeakPerSecond}/s`,
  ],
  [
    'etcd db size, max of members',
    `${(report.maxDbBytes / MiB).toFixed(1)} MiB of ${(report.quotaBytes / MiB).toFixed(0)} MiB quota (${((100 * report.maxDbBytes) / report.quotaBytes).toFixed(0)} %)`,
  ],
  [
    'leader kill',
    'error' in report.leaderKill
      ? report.leaderKill.error
      : `${report.leaderKill.host}, ${report.leaderKill.afterInsert ? 'after an insert, before its removal' : 'outside the pause'}; next leader in ${report.leaderKill.newLeaderMs} ms`,
  ],
  [
    'PostgreSQL stopped',
    `${report.outage.ms / 1000} s; ${report.outage.committedDuring} payments committed meanwhile`,
  ],
  [
    'retries while archiving',
    `${report.retriesDuringRun.sent} sent, ${report.retriesDuringRun.replayed} replayed byte-identical, ${report.retriesDuringRun.transient} transient 503/no answer`,
  ],
  [
    'retries of archived, after',
    `${report.retriesAfter.sent} sent, ${report.retriesAfter.replayed} replayed byte-identical (${report.retriesAfter.stillHot} still hot, skipped)`,
  ],
  [
    'read back by id',
    `${report.readBack.reads} reads (every payment on every host), ${report.readBack.failures} failures`,
  ],
  [
    'histories',
    `${report.histories.accounts} accounts, ${report.histories.entries} entries, ${report.histories.unacknowledged} unacknowledged ids`,
  ],
  [
    'bytes per payment',
    `etcd hot ${report.bytes.etcdPerHotPayment} B of keys+values (record + 2 index entries); etcd summary ${report.bytes.etcdSummaryPerArchivedId} B per archived id; PostgreSQL ${report.bytes.pgPerPayment} B per row incl. indexes (body ${report.bytes.pgBodyAvg} B), event log ${report.bytes.pgEventsPerPayment} B per payment`,
  ],
  [
    'history latency (limit 50)',
    `hot p50 ${report.historyLatencyMs.hot.p50} ms p99 ${report.historyLatencyMs.hot.p99} ms; archived p50 ${report.historyLatencyMs.archived.p50} ms p99 ${report.historyLatencyMs.archived.p99} ms${report.historyLatencyMs.stayedHot ? '' : ' (hot batch partly archived during the reads)'}`,
  ],
  ['violations', String(report.violations.length)],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log('\netcd db size over time (largest member, every 10 s):');
for (const s of report.timeline.filter((_, i) => i % 10 === 0))
  console.log(
    `  t=${String(s.t).padStart(4)}s  ${(s.maxDbBytes / MiB).toFixed(1).padStart(5)} MiB  hot ${String(s.hot).padStart(6)}  archived ${String(s.archived).padStart(7)}  acked ${s.acked}`,
  );
console.log('');
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
for (const v of report.violations) console.log(`VIOLATION ${v}`);
console.log(JSON.stringify({ ...report, timeline: undefined }));
process.exit(report.violations.length > 0 ? 1 : 0);
