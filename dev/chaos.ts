/**
 * `npm run chaos -- --duration 60s --faults kill,pause,partition`: a Jepsen-style run against a
 * fresh local cluster (dev/chaos/run-chaos.ts). Prints progress while it runs, then a summary
 * table; writes history.json, summary.json and timeline.svg to the results folder; exits 1 when
 * the history checker finds any violation. `npm run chaos -- --help` lists the flags.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_GROUPS, parseFaults } from './chaos/nemesis';
import { type ChaosReport, runChaos } from './chaos/run-chaos';
import { impactRows } from './chaos/timeline';
import { REPO_ROOT } from './cluster/host-fleet';

const HELP = `usage: npm run chaos -- [flags]
  --duration <n>[s|m]   how long clients send traffic (default 60s)
  --faults <list>       fault groups or kinds, comma-separated (default kill,pause,partition)
                        groups: ${Object.entries(FAULT_GROUPS)
                          .map(([g, k]) => `${g} = ${k.join(' ')}`)
                          .join('; ')}
  --clients <n>         concurrent clients (default 6)
  --seed <n>            seed of traffic and nemesis choices (default from the clock)
  --quiet <n>[s]        quiet time before each fault (default 3s)
  --hold <n>[s]         how long each fault lasts (default 5s)
  --out <dir>           results folder (default results/chaos-<time>)
  --keep                keep the cluster's data and logs`;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60s' },
    faults: { type: 'string', default: 'kill,pause,partition' },
    clients: { type: 'string', default: '6' },
    seed: { type: 'string' },
    quiet: { type: 'string', default: '3s' },
    hold: { type: 'string', default: '5s' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`error: ${message}\n\n${HELP}`);
  process.exit(2);
}

/** `90`, `90s`, `1.5m` → milliseconds. */
function durationMs(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) fail(`${flag} must look like 60s, 10m or 500ms, got ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? 's'] ?? 1000;
  return Math.round(Number(match[1]) * unit);
}

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
let faults: ReturnType<typeof parseFaults>;
try {
  faults = parseFaults(values.faults);
} catch (error) {
  fail((error as Error).message);
}
const clients = Number(values.clients);
if (!Number.isInteger(clients) || clients < 1 || clients > 200)
  fail('--clients must be an integer from 1 to 200');
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isSafeInteger(seed)) fail('--seed must be an integer');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = resolve(values.out ?? join(REPO_ROOT, 'results', `chaos-${stamp}`));

function printSummary(r: ChaosReport): void {
  console.log('\nchaos run summary');
  console.table({
    'duration (s)': (r.durationMs / 1000).toFixed(1),
    operations: r.operations,
    acknowledged: r.acknowledged,
    'failed (definite)': r.failed,
    '  of which 409 conflicts': r.conflicts,
    indeterminate: r.indeterminate,
    'records read back': r.recordsRead,
    'reads during faults, checked': r.readsChecked,
    'reads during faults, failed': r.readsFailed,
    violations: r.violations.length,
  });
  console.log(
    'faults by kind: throughput dip (acks/s against the 10 s before), time after the heal until throughput is back to 80 %, and until every member and host is healthy',
  );
  const byKind = impactRows(r.impacts);
  console.table(byKind);
  for (const v of r.violations.slice(0, 30)) console.log(`VIOLATION ${v.kind} ${v.id}: ${v.message}`);
  if (r.violations.length > 30) console.log(`... and ${r.violations.length - 30} more (see summary.json)`);
  console.log(`history, summary and timeline: ${r.outDir}`);
  if (r.violations.length > 0) console.log(`cluster data and logs kept in ${r.clusterDir}`);
}

// Exiting through process.exit runs the process registry's exit hook, which kills every etcd
// member and host this run started; dying of the signal itself would leave them behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

try {
  const report = await runChaos({
    durationMs: durationMs(values.duration, '--duration'),
    faults,
    outDir,
    clients,
    seed,
    quietMs: durationMs(values.quiet, '--quiet'),
    holdMs: durationMs(values.hold, '--hold'),
    keepClusterDir: values.keep,
  });
  printSummary(report);
  process.exit(report.violations.length === 0 ? 0 : 1);
} catch (error) {
  console.error(`chaos run failed: ${(error as Error).stack}`);
  process.exit(1);
}
