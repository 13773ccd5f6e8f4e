/**
 * The host's Prometheus metrics (prom-client), in one registry per app so that apps built
 * in-process by tests never share counters. Every named metric the operators' dashboards and
 * alerts rely on is registered here, even where the code that feeds it lives elsewhere: the
 * commit batcher observes `commitBatchSize`, the etcd client `etcdCallSeconds`, membership and
 * election set `isLeader` and `liveHosts` (see `watchClusterView`), clock sync the clock gauges.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterView } from '../../coordination/cluster/cluster-view';

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
  /** Hosts this host sees alive (membership). */
  liveHosts: Gauge;
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
    liveHosts: new Gauge({ name: 'live_hosts', help: 'Function hosts this host sees alive.', registers }),
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
