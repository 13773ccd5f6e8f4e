/**
 * The soak (issue 14, §9), as a function the CLI (dev/soak.ts) and the short cluster test
 * (test/cluster/soak-short.test.ts) both run: a fresh cluster with a small etcd quota and a short
 * hot window (soak-cluster.ts), a steady rate of new payments through PaymentsClient
 * (soak-load.ts) while archival runs, retries of archived ids meanwhile, the leader killed
 * between an archival insert and its removal, PostgreSQL stopped for a while (new ids must still
 * commit), then the checks (soak-checks.ts) and the figures (§8): etcd's database size over time
 * against the quota, commit and archival throughput, bytes per payment in each tier, history
 * latency hot against archived.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseDuration } from '../../functions/config';
import { keyLayout, prefixEnd } from '../../ledger/etcd/key-layout';
import { percentile } from '../../loadtest/latency-stats';
import { postPayment, request, useApiKey } from '../cluster/http';
import { historiesExactlyOnce, readBackEverywhere, retryArchived } from './soak-checks';
import { startSoakCluster } from './soak-cluster';
import { killLeaderAfterInsert, type LeaderKill, postgresOutage } from './soak-faults';
import { type AckedPayment, accountName, SoakLoad } from './soak-load';

export interface SoakOptions {
  durationMs: number;
  /** Payments per second offered. */
  rate: number;
  quotaBytes: number;
  /** LEDGER_HOT_WINDOW, e.g. `3s`. */
  hotWindow: string;
  /** How long PostgreSQL stays stopped, ms. Default a tenth of the duration, 5–30 s. */
  outageMs?: number;
  /** The leader's test-only pause after an archival insert, ms. Default 1500. */
  pauseAfterInsertMs?: number;
  /**
   * End the load early, once this many payments are acknowledged (after both faults). Default
   * none: the load runs for `durationMs`. For a test that needs a count on a machine of unknown speed.
   */
  stopAfterAcked?: number;
  /** Archived payments re-sent after the run. Default 2000. */
  retrySample?: number;
  keepDir?: boolean;
  log?: (line: string) => void;
}

export interface DbSample {
  /** Seconds since the load started. */
  t: number;
  /** Largest member database (dbSize, what etcd holds against its quota), bytes. */
  maxDbBytes: number;
  hot: number;
  archived: number;
  acked: number;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'log'>;
  load: SoakLoad['counts'];
  acknowledged: number;
  archived: number;
  commitPerSecond: number;
  /** Archived per second over the load phase (archival keeps pace), and the best 5 s while catching up. */
  archivalPerSecond: number;
  archivalPeakPerSecond: number;
  maxDbBytes: number;
  quotaBytes: number;
  timeline: DbSample[];
  leaderKill: LeaderKill | { error: string };
  outage: { ms: number; committedDuring: number };
  retriesDuringRun: { sent: number; replayed: number; transient: number };
  retriesAfter: { sent: number; replayed: number; stillHot: number };
  readBack: { reads: number; failures: number };
  histories: { accounts: number; entries: number; unacknowledged: number };
  bytes: {
    etcdPerHotPayment: number;
    etcdSummaryPerArchivedId: number;
    pgPerPayment: number;
    pgBodyAvg: number;
    /** The cluster event log's table (events of payments, reads and the rest), per archived payment. */
    pgEventsPerPayment: number;
  };
  historyLatencyMs: {
    hot: { p50: number; p99: number };
    archived: { p50: number; p99: number };
    stayedHot: boolean;
  };
  violations: string[];
}

/** Violations, the first 50 of them kept with their text. */
class Violations {
  readonly list: string[] = [];
  add(...lines: string[]): void {
    for (const line of lines) {
      if (this.list.length < 50) this.list.push(line);
      else if (this.list.length === 50) this.list.push('… more');
    }
  }
  get length(): number {
    return this.list.length;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { durationMs, rate, quotaBytes, hotWindow, log = () => {} } = options;
  const hotWindowMs = parseDuration(hotWindow);
  if (hotWindowMs === undefined) throw new Error(`not a duration: ${hotWindow}`);
  const outageMs = options.outageMs ?? Math.min(30_000, Math.max(5000, durationMs / 10));
  const pauseMs = options.pauseAfterInsertMs ?? 1500;
  const soak = await startSoakCluster({
    quotaBytes,
    hotWindow,
    pauseAfterInsertMs: pauseMs,
    keepDir: options.keepDir,
    log,
  });
  const violations = new Violations();
  let pgConn: pg.Client | undefined;
  try {
    const { cluster } = soak;
    const hosts = cluster.fleet.urls();
    useApiKey(cluster.adminKey); // the HTTP helpers' key (dev/cluster/http.ts)
    const root = cluster.ledgerRoot;
    const keys = keyLayout(root);
    const etcd = cluster.client({ callDeadlineMs: 10_000 });
    const members = cluster.etcd
      .clientUrls()
      .map((url) => cluster.client({ endpoints: [url], callDeadlineMs: 2000 }));
    const archivedCount = async (): Promise<number | undefined> => {
      try {
        if (!pgConn) {
          pgConn = new pg.Client({ connectionString: soak.archive.owner });
          // The outage ends this connection; the next sample reconnects.
          pgConn.on('error', () => undefined);
          await pgConn.connect();
        }
        return Number((await pgConn.query('SELECT count(*) AS n FROM payments')).rows[0].n);
      } catch {
        void pgConn?.end().catch(() => undefined);
        pgConn = undefined;
        return undefined;
      }
    };
    const hotCount = async () => {
      const prefix = keys.paymentsPrefix();
      const r = await etcd.kv.range({
        key: Buffer.from(prefix),
        range_end: prefixEnd(prefix),
        count_only: true,
      });
      return Number(r.count);
    };

    const load = new SoakLoad({ hosts, apiKey: cluster.adminKey, rate, idPrefix: `soak-${Date.now()}` });
    const accounts = Array.from({ length: 40 }, (_, i) => accountName(i));
    // History latency, archived side: an account whose payments will all have been archived.
    const latArchived = (
      await Promise.all(Array.from({ length: 50 }, () => load.pay('soak-lat-arch', 'soak-lat-peer')))
    ).filter(Boolean);
    if (latArchived.length < 50) violations.add('latency account: not every payment was acknowledged');

    // Sampler: the largest member database, hot records and archived rows, once a second.
    const timeline: DbSample[] = [];
    let maxDbBytes = 0;
    let lastArchived = 0;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; sampling && i < 100_000; i++) {
        const sizes = await Promise.all(
          members.map((m) =>
            m.maintenance.status().then(
              (s) => Number(s.dbSize),
              () => 0,
            ),
          ),
        );
        const maxDb = Math.max(...sizes);
        maxDbBytes = Math.max(maxDbBytes, maxDb);
        lastArchived = (await archivedCount()) ?? lastArchived;
        const sample = {
          t: Math.round(elapsed()),
          maxDbBytes: maxDb,
          hot: await hotCount().catch(() => -1),
          archived: lastArchived,
          acked: load.acked.length,
        };
        timeline.push(sample);
        if (i % 10 === 0)
          log(
            `t=${sample.t}s acked=${sample.acked} hot=${sample.hot} archived=${sample.archived} etcd db max ${(maxDb / MiB).toFixed(1)} MiB of ${(quotaBytes / MiB).toFixed(0)} MiB; in flight ${load.outstanding}`,
          );
        await sleep(1000);
      }
    })();

    // Retries of ids past the hot window while archival runs: 200 replayed, byte for byte, or a
    // transient retryable answer (a host being killed, PostgreSQL stopped); never 201 or 409.
    const duringRun = { sent: 0, replayed: 0, transient: 0 };
    let retrying = true;
    const retrier = (async () => {
      for (let i = 0; retrying && i < 1_000_000; i++) {
        await sleep(250);
        const old = load.acked.filter((a) => a.ackedAt < Date.now() - hotWindowMs - 2000);
        for (let k = 0; k < 5 && old.length > 0; k++) {
          const a = old[Math.floor(Math.random() * old.length)]!;
          const { id, payer, payee, amount, currency } = a.payment;
          duringRun.sent++;
          try {
            const r = await postPayment(hosts[(i + k) % hosts.length]!, {
              id,
              payer,
              payee,
              amount,
              currency,
            });
            if (r.status === 200 && r.text === a.text) duringRun.replayed++;
            else if (r.status === 503 && (r.body as { error?: { retryable?: boolean } })?.error?.retryable)
              duringRun.transient++;
            else violations.add(`retry during run ${payer}/${id}: ${r.status} ${r.text.slice(0, 120)}`);
          } catch {
            duringRun.transient++; // no answer: the host was being killed
          }
        }
      }
    })();

    load.start();
    log(`load: ${rate} payments/s for ${durationMs / 1000} s over ${hosts.length} hosts`);
    // Faults: the leader killed after an insert at 30 %, PostgreSQL stopped at 60 %.
    await sleep(durationMs * 0.3);
    let leaderKill: LeaderKill | { error: string };
    try {
      leaderKill = await killLeaderAfterInsert(soak, {
        pauseMs,
        timeoutMs: Math.max(30_000, durationMs * 0.2),
      });
      log(
        `killed leader ${leaderKill.host} ${leaderKill.afterInsert ? 'between an archival insert and its removal' : 'outside the pause'}; ${leaderKill.newLeader} led ${leaderKill.newLeaderMs} ms later; ${leaderKill.host} restarted`,
      );
    } catch (error) {
      leaderKill = { error: String(error) };
      violations.add(`leader kill: ${error}`);
    }
    const untilOutage = started + durationMs * 0.6 - performance.now();
    if (untilOutage > 0) await sleep(untilOutage);
    log(`stopping PostgreSQL for ${outageMs / 1000} s`);
    const outageStart = Date.now();
    await postgresOutage(soak, outageMs, async () => undefined);
    const outageEnd = Date.now();
    const committedDuring = load.acked.filter(
      (a) => a.ackedAt > outageStart + 1000 && a.ackedAt < outageEnd - 1000,
    ).length;
    log(`PostgreSQL back: ${committedDuring} payments committed while it was stopped`);
    if (committedDuring === 0) violations.add('no payment committed while PostgreSQL was stopped');
    const target = options.stopAfterAcked ?? Number.POSITIVE_INFINITY;
    while (performance.now() < started + durationMs && load.acked.length < target) await sleep(250);
    await load.stop();
    const loadSeconds = elapsed();
    const archivedAtLoadEnd = (await archivedCount()) ?? lastArchived;
    log(
      `load stopped after ${loadSeconds.toFixed(0)} s: ${load.acked.length} acknowledged; waiting for archival to empty etcd`,
    );
    const drainStart = performance.now();
    for (let i = 0; i < 600 && (await hotCount()) > 0; i++) await sleep(500);
    const hotLeft = await hotCount();
    if (hotLeft > 0)
      violations.add(
        `${hotLeft} payments still in etcd ${((performance.now() - drainStart) / 1000).toFixed(0)} s after the load`,
      );
    retrying = false;
    await retrier;

    // Bytes and history latency: a fresh batch in the hot tier beside the archived one.
    const latHot = (
      await Promise.all(Array.from({ length: 50 }, () => load.pay('soak-lat-hot', 'soak-lat-peer')))
    ).filter(Boolean) as AckedPayment[];
    const times = { hot: [] as number[], archived: [] as number[] };
    for (let i = 0; i < 20; i++)
      for (const [tier, account] of [
        ['hot', 'soak-lat-hot'],
        ['archived', 'soak-lat-arch'],
      ] as const) {
        const t0 = performance.now();
        const r = await request(`${hosts[i % hosts.length]}/payments?account=${account}&limit=50`).catch(
          (error: Error) => ({ status: String(error.cause ?? error) }),
        );
        times[tier].push(performance.now() - t0);
        if (r.status !== 200) violations.add(`history latency ${account}: ${r.status}`);
      }
    let etcdHotBytes = 0;
    let stillHot = 0;
    for (const a of latHot) {
      const { id, payer, payee } = a.payment;
      const kvs = await Promise.all(
        [
          keys.payment(id, payer),
          keys.accountEntry(payer, id, payer),
          keys.accountEntry(payee, id, payer),
        ].map(async (k) => ({ k, v: await etcd.get(k).buffer() })),
      );
      if (!kvs[0]!.v) continue; // archived meanwhile (a hot window shorter than these reads)
      stillHot++;
      for (const { k, v } of kvs) etcdHotBytes += v ? Buffer.byteLength(k) + v.length : 0;
    }
    const summaryPrefix = keys.archivedIdsPrefix();
    const summary = await etcd.kv.range({
      key: Buffer.from(summaryPrefix),
      range_end: prefixEnd(summaryPrefix),
    });
    const summaryBytes = summary.kvs.reduce((sum, kv) => sum + kv.key.length + kv.value.length, 0);
    const bytesClient = new pg.Client({ connectionString: soak.archive.owner });
    await bytesClient.connect();
    const pgBytes = (
      await bytesClient.query(
        "SELECT count(*) AS n, pg_total_relation_size('payments') AS total, avg(octet_length(body)) AS body, pg_total_relation_size('cluster_events') AS events FROM payments",
      )
    ).rows[0] as { n: string; total: string; body: string; events: string };
    await bytesClient.end();
    const archived = Number(pgBytes.n);

    // The checks. First: every host still runs (one that died is named; its log is in the cluster dir).
    for (const h of cluster.fleet.hosts)
      if (h.process.pid === undefined)
        violations.add(`host ${h.id} is not running (log: ${cluster.dir}/${h.id}.log)`);
    const all = load.acked;
    const stride = Math.max(1, Math.floor(all.length / (options.retrySample ?? 2000)));
    const after = await retryArchived(
      hosts,
      etcd,
      root,
      all.filter((_, i) => i % stride === 0),
    );
    violations.add(...after.violations);
    log(
      `retried ${after.replayed} archived payments after the run: all replayed byte for byte: ${after.violations.length === 0}`,
    );
    const readBack = await readBackEverywhere(hosts, all, (n) =>
      log(`read back ${n} of ${all.length * hosts.length}`),
    );
    violations.add(...readBack.violations);
    log(`read back ${readBack.checked} (every payment on every host): ${readBack.violationCount} failures`);
    const histories = await historiesExactlyOnce(
      hosts,
      [...accounts, 'soak-lat-arch', 'soak-lat-hot', 'soak-lat-peer'],
      all,
    );
    violations.add(...histories.violations);
    log(
      `histories: ${histories.entries} entries; every acknowledged payment in both accounts' histories exactly once: ${histories.violations.length === 0}`,
    );

    sampling = false;
    await sampler;
    if (maxDbBytes >= quotaBytes) violations.add(`etcd reached ${maxDbBytes} bytes, quota ${quotaBytes}`);
    // Catching up: the best 5 s of archival in the timeline (after the outage, or the drain).
    let peak = 0;
    for (let i = 5; i < timeline.length; i++)
      peak = Math.max(
        peak,
        (timeline[i]!.archived - timeline[i - 5]!.archived) / (timeline[i]!.t - timeline[i - 5]!.t || 1),
      );
    const p = (v: number[]) => ({
      p50: Number(percentile(v, 50).toFixed(1)),
      p99: Number(percentile(v, 99).toFixed(1)),
    });
    const { log: _log, ...shown } = options;
    return {
      options: shown,
      load: load.counts,
      acknowledged: all.length,
      archived,
      commitPerSecond: Math.round(all.length / loadSeconds),
      archivalPerSecond: Math.round(archivedAtLoadEnd / loadSeconds),
      archivalPeakPerSecond: Math.round(peak),
      maxDbBytes,
      quotaBytes,
      timeline,
      leaderKill,
      outage: { ms: outageMs, committedDuring },
      retriesDuringRun: duringRun,
      retriesAfter: { sent: after.checked, replayed: after.replayed, stillHot: after.stillHot },
      readBack: { reads: readBack.checked, failures: readBack.violationCount },
      histories: {
        accounts: accounts.length + 3,
        entries: histories.entries,
        unacknowledged: histories.unacknowledged,
      },
      bytes: {
        etcdPerHotPayment: Math.round(etcdHotBytes / Math.max(1, stillHot)),
        etcdSummaryPerArchivedId: Number((summaryBytes / Math.max(1, archived)).toFixed(2)),
        pgPerPayment: Math.round(Number(pgBytes.total) / Math.max(1, archived)),
        pgBodyAvg: Math.round(Number(pgBytes.body)),
        pgEventsPerPayment: Math.round(Number(pgBytes.events) / Math.max(1, archived)),
      },
      historyLatencyMs: {
        hot: p(times.hot),
        archived: p(times.archived),
        stayedHot: stillHot === latHot.length,
      },
      violations: violations.list,
    };
  } finally {
    await pgConn?.end().catch(() => undefined);
    await soak.stop();
  }
}
