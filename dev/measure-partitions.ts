/**
 * `npm run measure:partitions`: the stall figures of docs/fault-tolerance.md's Hardening section.
 * Runs each partition scenario (dev/partition-scenarios.ts) `--runs` times (default 3) on one fresh
 * chaos cluster and prints, per fault, the median (min–max) of the longest stretch without a
 * commit, against its target. Progress goes to stderr; exit 1 only if a payment was lost.
 * `--json FILE` also writes every run's figures there (the report contract's header included),
 * `--run-id ID` is copied into that JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../loadtest/latency-stats';
import { measurementHeader } from './measure-output';
import {
  describeRun,
  ELECTION_TIMEOUT_MS,
  PARTITION_FAULTS,
  raftTerm,
  type StallResult,
  startPartitionCluster,
} from './partition-scenarios';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    fault: { type: 'string', multiple: true },
    json: { type: 'string' },
    'run-id': { type: 'string' },
    help: { type: 'boolean' },
  },
});
const header = measurementHeader('measure:partitions', values['run-id']);
if (values.help) {
  console.log(
    'Usage: npm run measure:partitions -- [--runs N (default 3)] [--fault NAME ...] [--json FILE] [--run-id ID]',
  );
  console.log(`Faults (default all): ${PARTITION_FAULTS.map((f) => f.name).join(', ')}`);
  console.log(
    "Env: PARTITION_ELECTION_TIMEOUT_MS (default the launcher's, 500), PARTITION_HOST_ENV (JSON host settings)",
  );
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('--runs must be ≥ 1');
  process.exit(2);
}
// One fault alone (e.g. --fault isolate-leader) to compare etcd timings in more runs per minute.
const faults = values.fault
  ? PARTITION_FAULTS.filter((f) => values.fault?.includes(f.name))
  : PARTITION_FAULTS;
if (faults.length === 0) {
  console.error(`--fault must name one of ${PARTITION_FAULTS.map((f) => f.name).join(', ')}`);
  process.exit(2);
}

const progress = (line: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const spread = (xs: number[]) =>
  `${Math.round(percentile(xs, 50))} ms (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

const dir = mkdtempSync(join(tmpdir(), 'payments-measure-partitions-'));
const cluster = await startPartitionCluster(dir);
const results = new Map<string, StallResult[]>();
const load: number[] = [];
let lost = 0;
try {
  for (let i = 0; i < runs; i++) {
    for (const fault of faults) {
      load.push(loadavg()[0]!);
      const r = await fault.run(cluster, `mp${Date.now().toString(36)}-${fault.name}-${i}`);
      progress(`run ${i + 1}/${runs} ${describeRun(fault, r)}`);
      if (r.failures.length > 0) {
        lost += r.failures.length;
        progress(`  ${r.failures.length} payments failed: ${[...new Set(r.failures)].join('; ')}`);
      }
      results.set(fault.name, [...(results.get(fault.name) ?? []), r]);
    }
  }
  const term = await raftTerm(cluster);
  console.log(
    `Stall without any commit (16 clients), median (min–max) of ${runs} runs; election timeout ${ELECTION_TIMEOUT_MS} ms; ` +
      `load average ${spread(load).replace(/ ms/g, '')}; raft term at the end ${term} (expected ${1 + runs * faults.filter((f) => f.name === 'isolate-leader').length})`,
  );
  console.log('| fault | target | stall |');
  console.log('|---|---|---|');
  for (const fault of faults) {
    const rs = results.get(fault.name) ?? [];
    const label =
      fault.name === 'isolate-leader'
        ? 'etcd leader isolated'
        : fault.name === 'cut-host'
          ? 'host cut off from etcd'
          : 'etcd follower paused';
    const after = fault.name === 'pause-follower' ? '… then resumed' : '… then healed';
    const elected = rs.flatMap((r) => (r.electedAfterMs === undefined ? [] : [r.electedAfterMs]));
    const electedNote = elected.length ? `; new leader after ${spread(elected)}` : '';
    console.log(
      `| ${label} | ${fault.target.during} ms | ${spread(rs.map((r) => r.during))}${electedNote} |`,
    );
    console.log(`| ${after} | ${fault.target.afterHeal} ms | ${spread(rs.map((r) => r.afterHeal))} |`);
  }
  if (lost > 0) console.log(`${lost} payments neither committed nor replayed`);
  if (values.json) {
    const faults = PARTITION_FAULTS.map((fault) => {
      const rs = results.get(fault.name) ?? [];
      return {
        name: fault.name,
        describe: fault.describe,
        target: fault.target,
        duringMs: rs.map((r) => r.during),
        afterHealMs: rs.map((r) => r.afterHeal),
        electedAfterMs: rs.flatMap((r) => (r.electedAfterMs === undefined ? [] : [r.electedAfterMs])),
      };
    });
    const json = { ...header, runs, electionTimeoutMs: ELECTION_TIMEOUT_MS, faults, lost, loadAvg: load };
    writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(lost > 0 ? 1 : 0);
