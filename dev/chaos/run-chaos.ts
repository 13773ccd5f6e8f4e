/**
 * One chaos run, end to end: start a fresh cluster behind link proxies, drive it with concurrent
 * clients (writers and readers) while the nemesis injects faults, heal everything, read the whole ledger back from
 * every host, check the history, and write the history, summary and timeline to `outDir`.
 * Used by `npm run chaos` (dev/chaos.ts) and by the short run in `npm test`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paymentKey } from '../../ledger/payment';
import { ensureEtcd } from '../cluster/ensure-etcd';
import { ChaosCluster } from './chaos-cluster';
import { readEverything } from './final-reads';
import { checkHistory, type Violation } from './history-checker';
import { type FaultKind, type FaultRecord, Nemesis } from './nemesis';
import { type FaultImpact, faultImpacts, throughputPerSecond, timelineSvg } from './timeline';
import { seededRandom, Workload } from './workload';

export interface ChaosOptions {
  /** How long clients send traffic, in ms. */
  durationMs: number;
  faults: FaultKind[];
  /** Where history.json, summary.json and timeline.svg go. */
  outDir: string;
  /** Concurrent clients. Default 6. */
  clients?: number;
  /** Function hosts. Default 3. */
  hosts?: number;
  /** Seed of the traffic and of the nemesis's choices. Default: from the clock. */
  seed?: number;
  /** Quiet time before each fault, ms. Default 3000. */
  quietMs?: number;
  /** How long each fault lasts, ms. Default 5000. */
  holdMs?: number;
  /** Pause between one client's operations, ms. Default 20. */
  thinkMs?: number;
  /** Progress and log lines. Default console.log. */
  log?: (line: string) => void;
  /** Inject one fault of every kind even if that takes longer than `durationMs`. Default false. */
  everyKindOnce?: boolean;
  /** Keep the cluster's data and logs (always kept when a violation is found). Default false. */
  keepClusterDir?: boolean;
}

export interface ChaosReport {
  seed: number;
  durationMs: number;
  operations: number;
  acknowledged: number;
  failed: number;
  indeterminate: number;
  conflicts: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
  faults: FaultRecord[];
  impacts: FaultImpact[];
  violations: Violation[];
  recordsRead: number;
  /** Reads made during the faults that settled, each checked against real time. */
  readsChecked: number;
  /** Reads made during the faults that failed (they check nothing). */
  readsFailed: number;
  outDir: string;
  clusterDir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos({
  durationMs,
  faults,
  outDir,
  clients = 6,
  hosts = 3,
  seed = Date.now() % 1_000_000,
  quietMs = 3000,
  holdMs = 5000,
  thinkMs = 20,
  log = console.log,
  keepClusterDir = false,
  everyKindOnce = false,
}: ChaosOptions): Promise<ChaosReport> {
  const clusterDir = mkdtempSync(join(tmpdir(), 'payments-chaos-'));
  log(
    `chaos: seed ${seed}, ${durationMs / 1000} s, ${clients} clients, faults ${faults.join(',') || 'none'}; cluster in ${clusterDir}`,
  );
  const cluster = await ChaosCluster.start({ etcdBinary: ensureEtcd({ log }), dir: clusterDir, hosts });
  let violationsFound = true;
  try {
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const stopTraffic = new AbortController();
    const workload = new Workload({
      hosts: cluster.hosts.map((h) => h.url),
      apiKey: cluster.adminKey,
      clients,
      signal: stopTraffic.signal,
      now,
      random: seededRandom(seed),
      readRandom: seededRandom(seed + 2),
      thinkMs,
    });
    const nemesis = new Nemesis({
      cluster,
      kinds: faults,
      now,
      random: seededRandom(seed + 1),
      until: durationMs - 2000,
      quietMs,
      holdMs,
      log,
      everyKindOnce,
    });
    const counts = () => {
      const c = { ok: 0, fail: 0, unknown: 0, invoked: 0, reads: 0 };
      for (const e of workload.history) {
        if (e.type === 'invoke') c.invoked++;
        else if (e.type === 'read-invoke') c.reads++;
        else if (e.type === 'ok' || e.type === 'fail' || e.type === 'unknown') c[e.type]++;
      }
      return c;
    };
    const progress = setInterval(() => {
      const c = counts();
      const fault = nemesis.current ? `${nemesis.current.kind} on ${nemesis.current.target}` : 'none';
      log(
        `  t=${(now() / 1000).toFixed(0).padStart(4)}s  ops ${c.invoked}  ok ${c.ok}  fail ${c.fail}  unknown ${c.unknown}  reads ${c.reads}  faults ${nemesis.faults.length}  current fault: ${fault}`,
      );
    }, 5000);
    const traffic = workload.run();
    const nemesisDone = nemesis.run();
    await sleep(durationMs);
    // The nemesis stops scheduling by itself; let a fault in progress heal before traffic stops.
    await nemesisDone;
    stopTraffic.abort();
    await traffic;
    clearInterval(progress);
    const elapsedMs = now();

    log('chaos: traffic stopped; healing everything and waiting for the cluster ...');
    cluster.healNetwork();
    for (const p of [...cluster.etcd.members.map((m) => m.process), ...cluster.hosts.map((h) => h.process)])
      p.resume();
    for (const m of cluster.etcd.members)
      if (!m.process.running) await cluster.etcd.restartMember(m.name, 60_000);
    for (const h of cluster.hosts) if (!h.process.running) await cluster.restartHost(h.id, 60_000);
    await cluster.waitHealthy(90_000);

    const payments = [
      ...new Map(
        workload.history.flatMap((e) =>
          e.type === 'invoke' ? [[paymentKey(e.intent), e.intent] as const] : [],
        ),
      ).values(),
    ];
    const accounts = [...workload.accounts(), 'acct-shared-a', 'acct-shared-b'];
    log(
      `chaos: reading ${payments.length} payments and ${accounts.length} account histories from ${cluster.hosts.length} hosts ...`,
    );
    const reads = await readEverything({
      hosts: cluster.hosts.map((h) => ({ id: h.id, url: h.url })),
      apiKey: cluster.adminKey,
      payments,
      accounts,
      progress: (share) => log(`  final reads ${(share * 100).toFixed(0)} %`),
    });
    const check = checkHistory(workload.history, reads);
    violationsFound = check.violations.length > 0;

    const c = counts();
    const perSecond = throughputPerSecond(workload.history, elapsedMs);
    const faultsByKind: Partial<Record<FaultKind, number>> = {};
    for (const f of nemesis.faults) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
    const report: ChaosReport = {
      seed,
      durationMs: Math.round(elapsedMs),
      operations: c.invoked,
      acknowledged: c.ok,
      failed: c.fail,
      indeterminate: c.unknown,
      conflicts: workload.history.filter((e) => e.type === 'fail' && e.status === 409).length,
      faultsByKind,
      faults: nemesis.faults,
      impacts: faultImpacts(nemesis.faults, perSecond),
      violations: check.violations,
      recordsRead: check.recordsRead,
      readsChecked: check.readsChecked,
      readsFailed: workload.history.filter((e) => e.type === 'read-fail').length,
      outDir,
      clusterDir,
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(
      join(outDir, 'history.json'),
      JSON.stringify({ seed, faults: nemesis.faults, history: workload.history }),
    );
    writeFileSync(
      join(outDir, 'summary.json'),
      `${JSON.stringify({ ...report, throughputPerSecond: perSecond }, null, 2)}\n`,
    );
    writeFileSync(
      join(outDir, 'timeline.svg'),
      timelineSvg(
        perSecond,
        nemesis.faults,
        `chaos run, seed ${seed}: acknowledged payments per second, faults shaded`,
      ),
    );
    return report;
  } finally {
    await cluster.stop();
    if (!keepClusterDir && !violationsFound) rmSync(clusterDir, { recursive: true, force: true });
  }
}
