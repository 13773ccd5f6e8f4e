/**
 * A function host: one stateless process serving the payment functions over HTTP.
 * Run: `npm run host` (configuration from the environment, see functions/config.ts).
 *
 * Wiring, in order: the etcd client; membership and leader election (coordination), which give
 * the cluster view; the host clock, synchronized over that view (the leader is the time master);
 * the ledger with group commit; then the HTTP app, whose payment handlers stamp HLC timestamps.
 *
 * With ARCHIVE_URL (issue 14): the payment archive and the event log on PostgreSQL; the ledger
 * reads and commits across etcd's hot window and the archive (ledger/tiered-ledger.ts), and the
 * leader archives payments older than LEDGER_HOT_WINDOW (coordination/cluster/ledger-archiver.ts).
 * Without it, the ledger is etcd alone and the event log stays in etcd.
 */
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { type Clock, isoTimestamp, systemClock } from '../coordination/clock/clock';
import { createHostClocks } from '../coordination/clock-sync/host-clocks';
import { NtpReference } from '../coordination/clock-sync/ntp-reference';
import { peerClockDetails } from '../coordination/clock-sync/peer-clock-offsets';
import { HttpTimePeer } from '../coordination/clock-sync/time-peer';
import { createHostCoordination } from '../coordination/cluster/host-coordination';
import { LedgerArchiver, type LedgerArchiverOptions } from '../coordination/cluster/ledger-archiver';
import { archivalHoldReason } from '../coordination/cluster/quota-guard';
import { StaticClusterView } from '../coordination/cluster/static-cluster-view';
import { EtcdEndpointRouting } from '../coordination/etcd/endpoint-routing';
import { createEtcdClient } from '../coordination/etcd/etcd-client';
import { EtcdEventStore } from '../coordination/events/etcd-event-store';
import { PgEventStore } from '../coordination/events/pg-event-store';
import { PgArchive } from '../ledger/archive/pg-archive';
import { ArchivedIdCache } from '../ledger/etcd/archived-id-cache';
import { EtcdLedger } from '../ledger/etcd/etcd-ledger';
import { keyLayout } from '../ledger/etcd/key-layout';
import type { PaymentLedger } from '../ledger/ledger';
import { TieredLedger } from '../ledger/tiered-ledger';
import { createApp } from './app';
import { archiveConnection } from './archive-connection';
import { EtcdApiKeyStore } from './auth/etcd-api-key-store';
import { issueHostKey } from './auth/host-key';
import { readHostConfig } from './config';
import { answerMalformedRequest } from './http-errors';
import { bufferedLogDestination, createLogger } from './observability/logger';
import { createMetrics, watchClusterView, watchStorage } from './observability/metrics';
import { serverTimeouts } from './server-timeouts';

const config = readHostConfig(process.env);
const c = config.clocks;
// Membership is built before the host clock (which needs its view), so it reads the clock lazily;
// the few timestamps taken before the host clock exists (start-up logs) come from the machine's.
let hostClock: Clock | undefined;
const clock: Clock = { now: () => (hostClock ?? systemClock).now() };
const logDestination = bufferedLogDestination(1);
const logger = createLogger({
  level: config.logLevel,
  base: { host: config.hostId },
  clock,
  destination: logDestination,
});
/** Coordination events carry their own level: an etcd alarm the quota guard cannot explain is an error. */
function logCoordination({ level, msg, ...event }: Record<string, unknown>): void {
  const at = level === 'error' || level === 'warn' || level === 'debug' ? level : 'info';
  logger[at](event, typeof msg === 'string' ? msg : 'coordination');
}
// The health probe (in coordination) steers the client away from members that do not answer.
const etcdRouting = new EtcdEndpointRouting();
const client = createEtcdClient({
  endpoints: config.etcdEndpoints,
  callDeadlineMs: config.etcdCallDeadlineMs,
  tls: config.etcdTls,
  routing: etcdRouting,
});
const metrics = createMetrics({ processMetrics: true });
const onWatchRestart = (watch: string, reason: string) => metrics.etcdWatchRestarts.inc({ watch, reason });
// With an archive, this host's copy of the archived-id summary: a watch-backed view like membership
// and election, so its restarts are counted (watch="archived-ids") and /ready says when it may be stale.
const archivedIds = config.archive
  ? new ArchivedIdCache(client, keyLayout(config.ledgerRoot), {
      deadlineMs: config.requestDeadlineMs,
      onWatchRestart,
      log: logCoordination,
    })
  : undefined;
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const coordination = createHostCoordination({
  client,
  clock,
  etcdEndpoints: config.etcdEndpoints,
  etcdTls: config.etcdTls,
  etcdRouting,
  hostId: config.hostId,
  url: config.advertisedUrl,
  version: String(packageJson.version),
  root: config.ledgerRoot,
  ttlSeconds: config.membershipTtlSeconds,
  maintenanceIntervalMs: config.maintenanceIntervalMs,
  quota: config.quota,
  onWatchRestart,
  views: archivedIds ? [{ name: 'archived-ids', stale: () => archivedIds.viewStale() }] : [],
  log: logCoordination,
});
// The time master is the elected leader. A static view (CLUSTER_HOSTS) is kept for tests and for
// running hosts without membership.
const view = c.syncEnabled
  ? c.clusterHosts
    ? new StaticClusterView(config.hostId, c.clusterHosts, c.clusterLeader)
    : coordination.view
  : undefined;
const apiKeys = new EtcdApiKeyStore(client, {
  root: config.ledgerRoot,
  deadlineMs: config.requestDeadlineMs,
});
// This host's own `clock`-scoped key for the Berkeley adjustments it sends as time master; issued
// in the background (etcd may not answer yet at start), and a round before it exists just fails.
let hostKey: string | undefined;
void (async () => {
  for (;;) {
    try {
      hostKey = await issueHostKey(apiKeys, config.hostId, isoTimestamp(clock));
      return;
    } catch (error) {
      logger.warn({ err: error }, 'host key not issued yet; retrying in 1 s');
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }
})();
const clocks = createHostClocks({
  hostId: config.hostId,
  view,
  peer: new HttpTimePeer({ apiKey: () => hostKey }),
  // With an archive the event log lives in PostgreSQL: reading or shipping it writes nothing to etcd.
  eventStore: config.archive
    ? new PgEventStore(archiveConnection(config.archive))
    : new EtcdEventStore({ client, root: config.ledgerRoot }),
  clock: { offsetMs: c.offsetMs, driftPpm: c.driftPpm, maxSlewRate: c.maxSlewRate },
  hlc: { maxOffsetMs: c.maxOffsetMs },
  sync: {
    roundIntervalMs: c.syncIntervalMs,
    resyncErrorMs: c.resyncErrorMs,
    maxOffsetMs: c.maxOffsetMs,
    reference: c.ntpServers.length > 0 ? new NtpReference({ servers: c.ntpServers }) : undefined,
  },
  events: { flushIntervalMs: c.eventsFlushMs, retentionMs: c.eventsRetentionMs },
  maxEventLatenessMs: c.eventsMaxLatenessMs,
});
hostClock = clocks.hostClock;
const hotLedger = new EtcdLedger({
  client,
  root: config.ledgerRoot,
  operationDeadlineMs: config.requestDeadlineMs,
  batching: config.batching && {
    ...config.batching,
    observer: {
      onTransaction: (size, seconds) => {
        metrics.commitBatchSize.observe(size);
        metrics.etcdCallSeconds.observe({ op: 'commit_txn' }, seconds);
      },
      onShed: () => metrics.shedRequests.inc({ reason: 'commit_queue_full' }),
    },
  },
});
let ledger: PaymentLedger = hotLedger;
let archiver: LedgerArchiver | undefined;
if (config.archive && archivedIds) {
  const archive = new PgArchive(archiveConnection(config.archive));
  // Loads in the background, retried (and logged) until etcd answers.
  void archivedIds.start();
  ledger = new TieredLedger({ hot: hotLedger, archive, archivedIds });
  archiver = new LedgerArchiver({
    client,
    election: coordination.election,
    archive,
    archivedIds,
    clock,
    hotWindowMs: config.archive.hotWindowMs,
    root: config.ledgerRoot,
    maxTxnOps: config.batching ? config.batching.maxTxnOps : undefined,
    minBatch: config.archival.minBatch,
    maxBatchDelayMs: config.archival.maxDelayMs,
    holdReason: () => archivalHoldReason(coordination.quotaGuard.report()),
    observer: {
      onMoved: (count) => metrics.archivedPayments.inc(count),
      onLag: (seconds) => metrics.archivalLagSeconds.set(seconds),
      onFailure: () => metrics.archivalFailures.inc(),
    },
    // A failed pass is a warning: at LOG_LEVEL=warn it must still show.
    log: ({ level, msg, ...event }) =>
      level === 'warn' ? logger.warn(event, String(msg)) : logger.info(event, String(msg)),
    faults: archivalTestPause(config.archive.testPauseAfterInsertMs),
  });
  setInterval(() => {
    metrics.archivedIdsKnown.set(archivedIds.knownIds());
    metrics.archivedIdsBytes.set(archivedIds.bytes());
  }, 1000).unref();
}
// GET /cluster shows every live host's clock offset, read from its GET /time at request time.
const timePeer = new HttpTimePeer({ timeoutMs: 1000 });
coordination.status.hostDetails = (host) => {
  if (host.id === config.hostId) {
    // This host's own offset is zero by definition; its error bound is its own estimate.
    const bound = clocks.hostClock.errorBoundMs();
    const synced = Number.isFinite(bound);
    const status = clocks.deps.sync?.timeSource();
    return {
      clockOffsetMs: 0,
      clockErrorBoundMs: synced ? bound : null,
      clockSynced: synced,
      clockSource: status?.source ?? null,
      referenceErrorBoundMs: status?.referenceErrorBoundMs ?? null,
      ...(status?.referenceError ? { referenceError: status.referenceError } : {}),
    };
  }
  return host.alive ? peerClockDetails(timePeer, clocks.hostClock, host.url) : { clockOffsetMs: null };
};
watchClusterView(metrics, coordination.view);
watchStorage(metrics, coordination.quotaGuard);
// Clock gauges are sampled once a second: cheap, and finer than any scrape interval.
setInterval(() => {
  const bound = clocks.hostClock.errorBoundMs();
  metrics.clockOffsetMs.set(clocks.hostClock.raw() - clocks.hostClock.now());
  metrics.clockErrorBoundMs.set(Number.isFinite(bound) ? bound : -1);
  metrics.clockSyncRounds.set(clocks.deps.sync?.stats.rounds ?? 0);
  const status = clocks.deps.sync?.timeSource();
  for (const source of ['reference', 'internal', 'master', 'unsynchronized'] as const)
    metrics.clockTimeSource.set({ source }, status?.source === source ? 1 : 0);
  metrics.clockReferenceErrorBoundMs.set(status?.referenceErrorBoundMs ?? -1);
}, 1000).unref();
const app = createApp({
  ledger,
  apiKeys,
  auth: {
    cacheTtlMs: config.auth.cacheTtlMs,
    defaultPerSecond: config.auth.rateLimitPerSecond,
    failedAuthPerAddressPerSecond: config.auth.failedAuthPerAddressPerSecond,
  },
  clock: clocks.hostClock,
  hostId: config.hostId,
  cluster: coordination.status,
  clocks: clocks.deps,
  logger,
  metrics,
  maxRequestsInProgress: config.maxRequestsInProgress,
  maxRequestsPerKey: config.maxRequestsPerKey,
  bodyTimeoutMs: config.bodyTimeoutMs,
});

const server = serve(
  {
    fetch: app.fetch,
    port: config.port,
    hostname: config.bind,
    serverOptions: serverTimeouts({
      headersTimeoutMs: config.headersTimeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
    }),
  },
  (info) => {
    logger.info({ url: `http://${info.address}:${info.port}` }, 'host listening');
    coordination.start();
    clocks.start();
    archiver?.start();
  },
);

server.on('clientError', answerMalformedRequest);

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'host stopping');
  server.close();
  archiver?.stop();
  void clocks
    .stop()
    .catch(() => undefined)
    .then(() => coordination.close())
    .catch(() => undefined)
    .then(() => ledger.close())
    .finally(() => exit());
  setTimeout(() => exit(), 2000).unref();
}
function exit(): never {
  try {
    logDestination.flushSync(); // a stopped host's last lines
  } catch {}
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

/**
 * The test-only hook ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS (functions/config.ts): a pause between an
 * archival step's insert and its removal, announced in the log, so a soak (dev/soak/) can kill the
 * leader exactly there. Undefined, so no hook at all, when it is not set.
 */
function archivalTestPause(pauseMs: number): LedgerArchiverOptions['faults'] {
  if (pauseMs <= 0) return undefined;
  return async (step) => {
    if (step !== 'after-insert') return;
    logger.warn({ pauseMs }, 'archival paused after insert (test hook)');
    logger.flush(); // the destination buffers 4 KB: the announcement must be out before the pause ends
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  };
}
