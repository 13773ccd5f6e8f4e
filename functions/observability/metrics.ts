/**
 * The host's Prometheus metrics (prom-client), in one registry per app so that apps built
 * in-process by tests never share counters. Every named metric the operators' dashboards and
 * alerts rely on is registered here, even where the code that feeds it lives elsewhere: the
 * commit batcher observes `commitBatchSize`, the etcd client `etcdCallSeconds`, membership and
 * election set `isLeader` and `liveHosts` (see `watchClusterView`), clock sync the clock gauges,
 * the quota guard the storage gauges and the alarm counter (see `watchStorage`).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterView } from '../../coordination/cluster/cluster-view';
import type { QuotaGuard } from '../../coordination/cluster/quota-guard';

export interface MetricsOptions {
  /** Also export Node process metrics (CPU, memory, event loop lag). Default false; hosts turn it on. */
  processMetrics?: boolean;
  /** Labels on every series, e.g. `{ host: 'h1' }`. Default none. */
  defaultLabels?: Record<string, string>;
}

export interface Metrics {
  registry: Registry;
  /** HTTP requests answered, by method, matched route pattern and status. */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  /** HTTP latency in seconds, by method, route and status. */
  httpRequestSeconds: Histogram<'method' | 'route' | 'status'>;
  /** Payments per etcd transaction written by the commit path. */
  commitBatchSize: Histogram;
  /** Latency of one etcd call, by operation (txn, range, lease, ...). */
  etcdCallSeconds: Histogram<'op'>;
  /** Commits started and not yet answered. */
  inflightCommits: Gauge;
  /** Requests refused before reaching the ledger (load shedding), by reason. */
  shedRequests: Counter<'reason'>;
  /** Requests in progress on this host, as bounded by functions/middleware/requests-in-progress.ts. */
  requestsInProgress: Gauge;
  /** 1 while this host is the cluster leader, else 0. */
  isLeader: Gauge;
  /** This host's estimated offset from the cluster's reference time, ms. */
  clockOffsetMs: Gauge;
  /** Bound on the error of that estimate, ms. */
  clockErrorBoundMs: Gauge;
  /** 1 for where this host's time comes from now (reference, internal, master, unsynchronized), 0 for the others. */
  clockTimeSource: Gauge<'source'>;
  /** On the time master: its error bound against the NTP reference, ms (-1 elsewhere or never referenced). */
  clockReferenceErrorBoundMs: Gauge;
  /** Received HLC timestamps left out of the receive rule (coordination/clock/hlc.ts), by reason. */
  hlcMessagesIgnored: Counter<'reason'>;
  /** Hosts this host sees alive (membership). */
  liveHosts: Gauge;
  /** Each etcd member's backend size and the part in use, bytes, as the quota guard last read them. */
  etcdDbSizeBytes: Gauge<'member'>;
  etcdDbSizeInUseBytes: Gauge<'member'>;
  /** etcd's quota and the guard's high-water mark, bytes. */
  etcdQuotaBytes: Gauge;
  etcdQuotaHighWaterBytes: Gauge;
  /** 1 while payments are refused for storage (past the mark, or NOSPACE), else 0. */
  storageFull: Gauge;
  /** Alarms etcd has raised now, by alarm and whether size explains it. */
  etcdAlarmsActive: Gauge<'alarm' | 'explained'>;
  /** Alarms seen raised, by alarm and whether size explains it; explained="false" is an incident. */
  etcdAlarmsRaised: Counter<'alarm' | 'explained'>;
  /** etcd watches rebuilt (re-listed and watched again) after a failure, by watch and reason. */
  etcdWatchRestarts: Counter<'watch' | 'reason'>;
  /** Berkeley rounds this host has run as time master. */
  clockSyncRounds: Gauge;
  /** Payments this host, as leader, moved from etcd to the archive (coordination/cluster/ledger-archiver.ts). */
  archivedPayments: Counter;
  /** How far past the hot window the oldest payment in etcd is, s; 0 when archival keeps up. */
  archivalLagSeconds: Gauge;
  /** Archival passes that stopped on an error (archive down, deposed), to resume on the next. */
  archivalFailures: Counter;
  /** Archived ids in this host's copy of the archived-id summary, and the bytes it takes. */
  archivedIdsKnown: Gauge;
  archivedIdsBytes: Gauge;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];

export function createMetrics({ processMetrics = false, defaultLabels }: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (defaultLabels) registry.setDefaultLabels(defaultLabels);
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpRequestSeconds: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency in seconds, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    commitBatchSize: new Histogram({
      name: 'commit_batch_size',
      help: 'Payments written per etcd commit transaction.',
      buckets: BATCH_BUCKETS,
      registers,
    }),
    etcdCallSeconds: new Histogram({
      name: 'etcd_call_seconds',
      help: 'Latency of one etcd call in seconds, by operation.',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inflightCommits: new Gauge({
      name: 'inflight_commits',
      help: 'Payment commits started and not yet answered.',
      registers,
    }),
    shedRequests: new Counter({
      name: 'shed_requests_total',
      help: 'Requests refused before reaching the ledger, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    requestsInProgress: new Gauge({
      name: 'http_requests_in_progress',
      help: 'Requests in progress on this host (probes and scrapes excepted).',
      registers,
    }),
    isLeader: new Gauge({
      name: 'is_leader',
      help: '1 while this host leads the cluster, else 0.',
      registers,
    }),
    clockOffsetMs: new Gauge({
      name: 'clock_offset_ms',
      help: "This host's estimated clock offset from the cluster reference, ms.",
      registers,
    }),
    clockErrorBoundMs: new Gauge({
      name: 'clock_error_bound_ms',
      help: 'Bound on the error of the clock offset estimate, ms.',
      registers,
    }),
    clockTimeSource: new Gauge({
      name: 'clock_time_source',
      help: "1 for this host's current time source (reference: the master on NTP; internal: the master without a reachable reference; master: following the master; unsynchronized).",
      labelNames: ['source'],
      registers,
    }),
    clockReferenceErrorBoundMs: new Gauge({
      name: 'clock_reference_error_bound_ms',
      help: "The time master's error bound against its NTP reference, ms; grows while no reference answers (-1: not the master, or never referenced).",
      registers,
    }),
    hlcMessagesIgnored: new Counter({
      name: 'hlc_messages_ignored_total',
      help: 'Received HLC timestamps ignored: ahead (beyond the maximum offset) or malformed.',
      labelNames: ['reason'],
      registers,
    }),
    liveHosts: new Gauge({ name: 'live_hosts', help: 'Function hosts this host sees alive.', registers }),
    etcdDbSizeBytes: new Gauge({
      name: 'etcd_db_size_bytes',
      help: "Each etcd member's backend size (what etcd holds against its quota), bytes.",
      labelNames: ['member'],
      registers,
    }),
    etcdDbSizeInUseBytes: new Gauge({
      name: 'etcd_db_size_in_use_bytes',
      help: "The part of each etcd member's backend in use (the rest is freed by defragmentation), bytes.",
      labelNames: ['member'],
      registers,
    }),
    etcdQuotaBytes: new Gauge({ name: 'etcd_quota_bytes', help: "etcd's backend quota, bytes.", registers }),
    etcdQuotaHighWaterBytes: new Gauge({
      name: 'etcd_quota_high_water_bytes',
      help: 'Database size past which payments are refused (storage_full), bytes.',
      registers,
    }),
    storageFull: new Gauge({
      name: 'storage_full',
      help: '1 while payments are refused for etcd storage (past the high-water mark, or NOSPACE), else 0.',
      registers,
    }),
    etcdAlarmsActive: new Gauge({
      name: 'etcd_alarms_active',
      help: 'etcd alarms raised now, by alarm and whether database size explains it.',
      labelNames: ['alarm', 'explained'],
      registers,
    }),
    etcdAlarmsRaised: new Counter({
      name: 'etcd_alarms_raised_total',
      help: 'etcd alarms seen raised, by alarm and whether database size explains it (explained="false": an incident).',
      labelNames: ['alarm', 'explained'],
      registers,
    }),
    etcdWatchRestarts: new Counter({
      name: 'etcd_watch_restarts_total',
      help: 'etcd watches re-listed and watched again after a failure (e.g. a compacted revision), by watch and reason.',
      labelNames: ['watch', 'reason'],
      registers,
    }),
    // A gauge read from ClockSync's own count at scrape time; prom-client wants counters to be
    // incremented, not set.
    clockSyncRounds: new Gauge({
      name: 'clock_sync_rounds_total',
      help: 'Berkeley rounds this host has run as time master.',
      registers,
    }),
    archivedPayments: new Counter({
      name: 'archived_payments_total',
      help: 'Payments this host moved from etcd to the archive as leader.',
      registers,
    }),
    archivalLagSeconds: new Gauge({
      name: 'archival_lag_seconds',
      help: 'How far past the hot window the oldest payment in etcd is, s (0: archival keeps up).',
      registers,
    }),
    archivalFailures: new Counter({
      name: 'archival_failures_total',
      help: 'Archival passes that stopped on an error; the next pass resumes.',
      registers,
    }),
    archivedIdsKnown: new Gauge({
      name: 'archived_ids_known',
      help: "Archived ids in this host's copy of the archived-id summary.",
      registers,
    }),
    archivedIdsBytes: new Gauge({
      name: 'archived_ids_summary_bytes',
      help: "Bytes of Bloom filters in this host's copy of the archived-id summary.",
      registers,
    }),
  };
}

/** Keeps `is_leader` and `live_hosts` in step with a ClusterView; returns the unsubscribe. */
export function watchClusterView(metrics: Metrics, view: ClusterView): () => void {
  const update = () => {
    metrics.isLeader.set(view.isLeader() ? 1 : 0);
    metrics.liveHosts.set(view.liveHosts().length);
  };
  update();
  return view.onChange(update);
}

/** Keeps the storage gauges in step with the quota guard and counts the alarms it sees raised. */
export function watchStorage(metrics: Metrics, guard: QuotaGuard): () => void {
  return guard.onReport((report, raised) => {
    metrics.etcdQuotaBytes.set(report.quotaBytes);
    metrics.etcdQuotaHighWaterBytes.set(report.highWaterBytes);
    metrics.storageFull.set(report.full ? 1 : 0);
    for (const m of report.members) {
      metrics.etcdDbSizeBytes.set({ member: m.name }, m.dbSizeBytes);
      if (m.dbSizeInUseBytes !== null)
        metrics.etcdDbSizeInUseBytes.set({ member: m.name }, m.dbSizeInUseBytes);
    }
    metrics.etcdAlarmsActive.reset();
    for (const a of report.alarms)
      metrics.etcdAlarmsActive.inc({ alarm: a.alarm, explained: String(a.explained) });
    for (const a of raised) metrics.etcdAlarmsRaised.inc({ alarm: a.alarm, explained: String(a.explained) });
  });
}
