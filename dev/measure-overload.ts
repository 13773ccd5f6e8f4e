/**
 * `npm run measure:overload`: what three hosts do when offered 3× the load they can sustain.
 * On a fresh scratch cluster (3 etcd members, 3 hosts), with autocannon through the load helpers:
 *   1. the maximum sustainable throughput: a flat-out closed loop, 384 connections (or `--sustainable N`);
 *   2. a healthy run at 80 % of it (`--healthy-share`), the reference latency;
 *   3. an overload run offering 3× it (`--factor`) for the same duration;
 *   4. recovery: from the end of the overload, the time until a new payment is accepted again;
 *   5. an exactly-once check in the ledger: every acknowledged payment is there with the sequence
 *      it was acknowledged with, and no payment shed with `overloaded` is.
 * For each run: requests offered (sent), accepted (201), shed (503 overloaded or 429, with
 * Retry-After), other errors (any other status, timeouts, connection errors), accepted latency
 * p50/p95/p99, shed latency, and the hosts' largest RSS (/proc/<pid>/status VmRSS, sampled every
 * 200 ms). Prints a table, writes results/overload-<time>.json. `--help` lists the flags.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdLedger } from '../ledger/etcd/etcd-ledger';
import { API_KEY_ENV, authHeaders, resolveApiKey } from '../loadtest/api-key';
import { type PlannedRequest, runHttpLoad } from '../loadtest/http-driver';
import { LatencyRecorder, type LoadFigures } from '../loadtest/latency-stats';
import { paymentBody } from '../loadtest/scenarios';
import { sampleRss } from './bench/process-rss';
import { REPO_ROOT } from './cluster/host-fleet';
import { startScratchCluster } from './cluster/scratch-cluster';

const HELP = `Usage: npm run measure:overload -- [flags]

  --seconds N           seconds of the healthy and of the overload run    default 20
  --sustainable N       take N payments/s as the sustainable rate (skips measuring it)
  --probe-seconds N     seconds of the flat-out run that measures it      default 10
  --probe-connections N connections of that run and of the healthy run    default 384
  --healthy-share X     healthy run offers X × sustainable                default 0.8
  --factor X            overload run offers X × sustainable               default 3
  --connections N       connections of the overload run                   default 768
  --max-in-progress N   HOST_MAX_REQUESTS_IN_PROGRESS on the hosts        default: the hosts' own
  --max-queued N        COMMIT_MAX_QUEUED on the hosts                    default: the hosts' own
  --api-key KEY         send Authorization: Bearer KEY                    default $${API_KEY_ENV}, else the cluster's
  --out DIR             results directory                                 default results
  --tag TEXT            label stored in the JSON and its file name
  --help                this text
`;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' },
    sustainable: { type: 'string' },
    'probe-seconds': { type: 'string' },
    'probe-connections': { type: 'string' },
    'healthy-share': { type: 'string' },
    factor: { type: 'string' },
    connections: { type: 'string' },
    'max-in-progress': { type: 'string' },
    'max-queued': { type: 'string' },
    'api-key': { type: 'string' },
    out: { type: 'string' },
    tag: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
function num(text: string | undefined, fallback: number, what: string, min: number, max = Infinity): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`error: ${what} must be a number in [${min}, ${max}], got ${text}\n\n${HELP}`);
    process.exit(2);
  }
  return n;
}
const seconds = Math.round(num(flags.seconds, 20, '--seconds', 2, 600));
const probeSeconds = Math.round(num(flags['probe-seconds'], 10, '--probe-seconds', 2, 120));
const healthyShare = num(flags['healthy-share'], 0.8, '--healthy-share', 0.1, 1);
const factor = num(flags.factor, 3, '--factor', 1, 20);
// An open-loop rate needs connections ≥ rate × latency: the overload run needs far more than the
// hosts will hold in progress, or autocannon, not the hosts, would limit what is offered.
const overloadConnections = Math.round(num(flags.connections, 768, '--connections', 3, 5000));
// Group commit makes throughput grow with concurrency (bigger batches), so the flat-out run uses as
// many connections as three hosts admit at the default bound (3 × 128): fewer measure latency, not capacity.
const probeConnections = Math.round(num(flags['probe-connections'], 384, '--probe-connections', 3, 5000));
const givenSustainable = flags.sustainable && num(flags.sustainable, 0, '--sustainable', 1);
const hostEnv: Record<string, string> = {};
if (flags['max-in-progress'])
  hostEnv.HOST_MAX_REQUESTS_IN_PROGRESS = String(num(flags['max-in-progress'], 0, '--max-in-progress', 1));
if (flags['max-queued']) hostEnv.COMMIT_MAX_QUEUED = String(num(flags['max-queued'], 0, '--max-queued', 1));
const outDir = resolve(REPO_ROOT, flags.out ?? 'results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const log = (line: string) => console.log(`[overload ${new Date().toISOString().slice(11, 19)}] ${line}`);
const loadAverageAtStart = loadavg();

log(`fresh cluster: 3 etcd members, 3 hosts ${JSON.stringify(hostEnv)}; load average ${fmtLoad()} ...`);
const cluster = await startScratchCluster({
  members: 3,
  hosts: 3,
  hostEnv,
  dirPrefix: 'payments-overload-',
  // Generous: on a busy 2-core machine tsx may take a minute to compile a host.
  startTimeoutMs: { etcd: 120_000, hosts: 180_000 },
});
process.on('SIGINT', () => void cluster.stop().finally(() => process.exit(130)));
const apiKey = resolveApiKey(flags['api-key'], process.env[API_KEY_ENV]) ?? cluster.adminKey;
const headers = authHeaders(apiKey);
const targets = cluster.fleet.urls();
const rss = sampleRss(Object.fromEntries(cluster.fleet.hosts.map((h) => [h.id, () => h.process.pid])));

/** What one run saw. */
interface RunReport {
  name: string;
  offeredRate: number | 'max';
  connections: number;
  seconds: number;
  /** Requests sent that got an answer or an error. */
  offered: number;
  accepted: number;
  shed: number;
  /** Shed answers without Retry-After (must be 0). */
  shedWithoutRetryAfter: number;
  /** Other answers and failures, by status or error, e.g. `503 unavailable`, `timeout`. */
  otherErrors: Record<string, number>;
  accepted_ms: Pick<LoadFigures, 'p50' | 'p95' | 'p99' | 'max'>;
  shed_ms: Pick<LoadFigures, 'p50' | 'p95' | 'p99' | 'max'>;
  /** Largest VmRSS per host during the run, MiB. */
  hostRssMaxMiB: Record<string, number>;
}

/** Payment id → the sequence its 201 carried; ids shed with `overloaded`. */
const acknowledged = new Map<string, number>();
const shedIds: string[] = [];
let paymentNumber = 0;
const SEQUENCE = /"sequence":(\d+)/;
const OVERLOADED = /"code":"overloaded"/;

const header = (h: IncomingHttpHeaders, name: string) =>
  Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];

async function run(name: string, offeredRate: number | 'max', connections: number, runSeconds: number) {
  const accepted = new LatencyRecorder();
  const shed = new LatencyRecorder();
  const otherErrors: Record<string, number> = {};
  let shedWithoutRetryAfter = 0;
  const count = (what: string) => {
    otherErrors[what] = (otherErrors[what] ?? 0) + 1;
  };
  const prefix = `ov${stamp.slice(11, 19).replace(/-/g, '')}-${name.replace(/\W+/g, '')}`;
  rss.reset();
  const t0 = performance.now();
  await runHttpLoad({
    targets,
    ratePerSecond: offeredRate === 'max' ? undefined : offeredRate,
    connections,
    durationSeconds: runSeconds,
    headers,
    next: (): PlannedRequest => {
      const n = paymentNumber++;
      const id = `${prefix}-${n}`;
      return { method: 'POST', path: '/payments', body: paymentBody(id, n, 1000), expect: [201], tag: id };
    },
    onAnswer: (request, status, body, latencyMs, answerHeaders) => {
      const id = request.tag as string;
      if (status === 201) {
        accepted.record(latencyMs, true);
        acknowledged.set(id, Number(body.match(SEQUENCE)?.[1]));
      } else if (status === 429 || (status === 503 && OVERLOADED.test(body))) {
        shed.record(latencyMs, true);
        if (header(answerHeaders, 'retry-after') === undefined) shedWithoutRetryAfter += 1;
        if (status === 503) shedIds.push(id);
      } else {
        count(`${status} ${body.match(/"code":"(\w+)"/)?.[1] ?? ''}`.trim());
      }
    },
    onRequestError: (error) => count(/timeout/i.test(error.message) ? 'timeout' : error.message),
    onProgress: (done) =>
      log(`  ${name}: ${Math.round((performance.now() - t0) / 1000)}/${runSeconds} s, ${done} answered`),
  });
  const elapsed = (performance.now() - t0) / 1000;
  const a = accepted.figures(elapsed);
  const s = shed.figures(elapsed);
  const other = Object.values(otherErrors).reduce((x, y) => x + y, 0);
  const report: RunReport = {
    name,
    offeredRate,
    connections,
    seconds: Math.round(elapsed * 10) / 10,
    offered: a.ok + s.ok + other,
    accepted: a.ok,
    shed: s.ok,
    shedWithoutRetryAfter,
    otherErrors,
    accepted_ms: { p50: a.p50, p95: a.p95, p99: a.p99, max: a.max },
    shed_ms: { p50: s.p50, p95: s.p95, p99: s.p99, max: s.max },
    hostRssMaxMiB: Object.fromEntries(
      Object.entries(rss.max()).map(([host, bytes]) => [host, Math.round(bytes / 2 ** 20)]),
    ),
  };
  log(
    `  ${name}: ${report.offered} offered, ${report.accepted} accepted (${Math.round(report.accepted / elapsed)}/s), ${report.shed} shed, ${other} other errors; accepted p99 ${a.p99.toFixed(1)} ms`,
  );
  return report;
}

/** Sends one new payment every 50 ms until one is accepted (bounded: 60 s); ms until then. */
async function recoveryMs(from: number): Promise<number> {
  for (let attempt = 0; performance.now() - from < 60_000; attempt++) {
    const id = `ovrec${stamp.slice(11, 19).replace(/-/g, '')}-${attempt}`;
    const response = await fetch(`${targets[attempt % targets.length]}/payments`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: paymentBody(id, attempt, 1000),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    const text = await response?.text().catch(() => '');
    if (response?.status === 201) {
      acknowledged.set(id, Number(text?.match(SEQUENCE)?.[1]));
      return performance.now() - from;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number.NaN;
}

/** Checks the ledger: acknowledged ones present with their sequence, shed ones absent. */
async function checkLedger(): Promise<{ checked: number; shedChecked: number; problems: string[] }> {
  const ledger = new EtcdLedger({ client: cluster.client({ callDeadlineMs: 10_000 }), batching: false });
  const problems: string[] = [];
  const work: (() => Promise<void>)[] = [];
  for (const [id, sequence] of acknowledged)
    work.push(async () => {
      // Ids are unique per run, so the id alone names the payment (whatever its payer).
      const [stored] = await ledger.findById(id);
      if (!stored) problems.push(`${id} acknowledged but missing`);
      else if (stored.sequence !== sequence)
        problems.push(`${id} acknowledged with sequence ${sequence}, stored ${stored.sequence}`);
    });
  for (const id of shedIds)
    work.push(async () => {
      if ((await ledger.findById(id)).length > 0)
        problems.push(`${id} was shed with 503 overloaded but is in the ledger`);
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < work.length) await work[next++]!();
    }),
  );
  await ledger.close();
  return { checked: acknowledged.size, shedChecked: shedIds.length, problems };
}

const mib = (r: RunReport) => Math.max(0, ...Object.values(r.hostRssMaxMiB));
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
function fmtLoad(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

let exitCode = 0;
try {
  const idleRss = rss.max();
  log('warm-up: 3 s at 300/s (JIT, connections) ...');
  await run('warm-up', 300, 24, 3);

  let sustainable: number;
  let probe: RunReport | undefined;
  if (givenSustainable) {
    sustainable = givenSustainable;
    log(`sustainable rate taken from --sustainable: ${sustainable}/s`);
  } else {
    log(`maximum sustainable throughput: flat out, ${probeConnections} connections, ${probeSeconds} s ...`);
    probe = await run('max (closed loop)', 'max', probeConnections, probeSeconds);
    sustainable = Math.max(1, Math.round(probe.accepted / probe.seconds));
    log(`sustainable rate: ${sustainable}/s`);
  }
  const healthyRate = Math.max(1, Math.round(sustainable * healthyShare));
  const overloadRate = Math.round(sustainable * factor);
  log(`healthy: ${healthyRate}/s for ${seconds} s ...`);
  const healthy = await run(`healthy @ ${healthyRate}/s`, healthyRate, probeConnections, seconds);
  log(
    `overload: ${overloadRate}/s (${factor}× ${sustainable}/s) for ${seconds} s, ${overloadConnections} connections ...`,
  );
  const overload = await run(`overload @ ${overloadRate}/s`, overloadRate, overloadConnections, seconds);
  const loadStopped = performance.now();
  const recovery = await recoveryMs(loadStopped);
  log(`recovery: a new payment accepted ${fmt(recovery)} ms after the overload stopped`);
  log(`exactly-once check: ${acknowledged.size} acknowledged, ${shedIds.length} shed ...`);
  const ledgerCheck = await checkLedger();

  const runs = [...(probe ? [probe] : []), healthy, overload];
  console.table(
    runs.map((r) => ({
      run: r.name,
      'offered/s': Math.round(r.offered / r.seconds),
      offered: r.offered,
      accepted: r.accepted,
      shed: r.shed,
      'other errors': Object.values(r.otherErrors).reduce((x, y) => x + y, 0),
      'acc p50 ms': fmt(r.accepted_ms.p50),
      'acc p95 ms': fmt(r.accepted_ms.p95),
      'acc p99 ms': fmt(r.accepted_ms.p99),
      'shed p99 ms': fmt(r.shed_ms.p99),
      'host RSS max MiB': mib(r),
    })),
  );
  for (const r of runs)
    if (Object.keys(r.otherErrors).length > 0)
      log(`${r.name}: other errors ${JSON.stringify(r.otherErrors)}`);
  const shedWithoutRetryAfter = runs.reduce((t, r) => t + r.shedWithoutRetryAfter, 0);
  const summary = {
    tag: flags.tag ?? '',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverageAtStart, loadAverageAtEnd: loadavg() },
    hostEnv,
    sustainablePerSecond: sustainable,
    sustainableFrom: givenSustainable ? '--sustainable' : 'closed-loop run',
    factor,
    idleHostRssMiB: Object.fromEntries(Object.entries(idleRss).map(([h, b]) => [h, Math.round(b / 2 ** 20)])),
    runs,
    recoveryMs: recovery,
    shedWithoutRetryAfter,
    exactlyOnce: ledgerCheck,
  };
  log(`idle host RSS MiB: ${JSON.stringify(summary.idleHostRssMiB)}`);
  log(
    `accepted p99: healthy ${fmt(healthy.accepted_ms.p99)} ms, overload ${fmt(overload.accepted_ms.p99)} ms; host RSS max: healthy ${mib(healthy)} MiB, overload ${mib(overload)} MiB`,
  );
  log(`shed answers without Retry-After: ${shedWithoutRetryAfter}`);
  log(`load average: ${loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${fmtLoad()} at end`);
  if (ledgerCheck.problems.length > 0) {
    exitCode = 1;
    log(`exactly-once check FAILED: ${ledgerCheck.problems.length} problems, first ones:`);
    for (const p of ledgerCheck.problems.slice(0, 20)) log(`  ${p}`);
  } else {
    log(
      `exactly-once check passed: all ${ledgerCheck.checked} acknowledged payments are in the ledger with their sequence; none of the ${ledgerCheck.shedChecked} shed ones is`,
    );
  }
  if (shedWithoutRetryAfter > 0) exitCode = 1;
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `overload-${stamp}${flags.tag ? `-${flags.tag}` : ''}.json`);
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  log(`wrote ${file}`);
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  rss.stop();
  await cluster.stop().catch(() => {});
}
process.exit(exitCode);
