/**
 * The host's configuration, read from the environment once, at start-up, and nowhere below.
 *
 *   HOST_ID                  id recorded on committed payments          default host-<port>
 *   HOST_PORT                HTTP port                                  default 8081
 *   HOST_BIND                address to listen on                       default 127.0.0.1
 *   ETCD_ENDPOINTS           comma-separated etcd client URLs           default http://127.0.0.1:2379
 *   ETCD_CALL_DEADLINE_MS    deadline of one etcd call on one member    default 1500
 *   REQUEST_DEADLINE_MS      bound on one ledger operation, retries in  default 5000
 *   LEDGER_ROOT              etcd key root of the ledger                default /pay/v1
 *
 * Clocks (coordination/clock.ts, clock-sync.ts, event-log.ts):
 *   CLOCK_OFFSET_MS          simulated offset of this host's clock, ms  default 0
 *   CLOCK_DRIFT_PPM          simulated drift of this host's clock, ppm  default 0
 *   CLOCK_MAX_SLEW_RATE      fastest slew, ms per ms                    default 0.5
 *   CLOCK_SYNC_INTERVAL_MS   period of the master's Berkeley rounds     default 1000
 *   CLOCK_RESYNC_ERROR_MS    Cristian re-sync threshold on the error    default 25
 *   CLOCK_OUTLIER_BOUND_MS   Berkeley fault-tolerant average bound      default 1000
 *   CLOCK_MAX_OFFSET_MS      /ready is 503 beyond this offset           default 500
 *   CLOCK_SYNC               set to `off` to disable synchronization    default on
 *   CLUSTER_HOSTS            id=url,... static cluster view (until the  default none: no sync
 *                            etcd membership view is wired in)
 *   CLUSTER_LEADER           leader (time master) of the static view    default first host
 *   EVENTS_FLUSH_MS          event shipping period                      default 500
 *   EVENTS_RETENTION_MS      how long etcd keeps events                 default 3600000
 *   EVENTS_MAX_LATENESS_MS   GET /events stops waiting for a host       default 5000
 */
import { z } from 'zod';
import type { HostInfo } from '../coordination/cluster-view';
import { parseClusterHosts } from '../coordination/static-cluster-view';
import { DEFAULT_ROOT } from '../ledger/key-layout';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  HOST_PORT: positiveInt(8081),
  HOST_BIND: z.string().default('127.0.0.1'),
  HOST_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional(),
  ETCD_ENDPOINTS: z.string().default('http://127.0.0.1:2379'),
  ETCD_CALL_DEADLINE_MS: positiveInt(1500),
  REQUEST_DEADLINE_MS: positiveInt(5000),
  LEDGER_ROOT: z.string().startsWith('/').default(DEFAULT_ROOT),
  CLOCK_OFFSET_MS: z.coerce.number().finite().default(0),
  CLOCK_DRIFT_PPM: z.coerce.number().finite().min(-100_000).max(100_000).default(0),
  CLOCK_MAX_SLEW_RATE: z.coerce.number().gt(0).lt(1).default(0.5),
  CLOCK_SYNC_INTERVAL_MS: positiveInt(1000),
  CLOCK_RESYNC_ERROR_MS: positiveInt(25),
  CLOCK_OUTLIER_BOUND_MS: positiveInt(1000),
  CLOCK_MAX_OFFSET_MS: positiveInt(500),
  CLOCK_SYNC: z.enum(['on', 'off']).default('on'),
  CLUSTER_HOSTS: z.string().optional(),
  CLUSTER_LEADER: z.string().optional(),
  EVENTS_FLUSH_MS: positiveInt(500),
  EVENTS_RETENTION_MS: positiveInt(3_600_000),
  EVENTS_MAX_LATENESS_MS: positiveInt(5000),
});

/** Clock simulation, synchronization and event log settings. */
export interface ClockConfig {
  offsetMs: number;
  driftPpm: number;
  maxSlewRate: number;
  syncIntervalMs: number;
  resyncErrorMs: number;
  outlierBoundMs: number;
  maxOffsetMs: number;
  syncEnabled: boolean;
  /** Static cluster view, when CLUSTER_HOSTS is set. */
  clusterHosts: HostInfo[] | undefined;
  clusterLeader: string | undefined;
  eventsFlushMs: number;
  eventsRetentionMs: number;
  eventsMaxLatenessMs: number;
}

export interface HostConfig {
  hostId: string;
  port: number;
  bind: string;
  etcdEndpoints: string[];
  etcdCallDeadlineMs: number;
  requestDeadlineMs: number;
  ledgerRoot: string;
  clocks: ClockConfig;
}

export function readHostConfig(env: NodeJS.ProcessEnv): HostConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`bad host configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    hostId: e.HOST_ID ?? `host-${e.HOST_PORT}`,
    port: e.HOST_PORT,
    bind: e.HOST_BIND,
    etcdEndpoints: e.ETCD_ENDPOINTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    etcdCallDeadlineMs: e.ETCD_CALL_DEADLINE_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    ledgerRoot: e.LEDGER_ROOT,
    clocks: readClockConfig(e),
  };
}

function readClockConfig(e: z.infer<typeof envSchema>): ClockConfig {
  const clusterHosts = e.CLUSTER_HOSTS ? parseClusterHosts(e.CLUSTER_HOSTS) : undefined;
  if (e.CLUSTER_LEADER && !clusterHosts?.some((h) => h.id === e.CLUSTER_LEADER)) {
    throw new Error(`bad host configuration: CLUSTER_LEADER ${e.CLUSTER_LEADER} is not in CLUSTER_HOSTS`);
  }
  return {
    offsetMs: e.CLOCK_OFFSET_MS,
    driftPpm: e.CLOCK_DRIFT_PPM,
    maxSlewRate: e.CLOCK_MAX_SLEW_RATE,
    syncIntervalMs: e.CLOCK_SYNC_INTERVAL_MS,
    resyncErrorMs: e.CLOCK_RESYNC_ERROR_MS,
    outlierBoundMs: e.CLOCK_OUTLIER_BOUND_MS,
    maxOffsetMs: e.CLOCK_MAX_OFFSET_MS,
    syncEnabled: e.CLOCK_SYNC === 'on',
    clusterHosts,
    clusterLeader: e.CLUSTER_LEADER ?? clusterHosts?.[0]?.id,
    eventsFlushMs: e.EVENTS_FLUSH_MS,
    eventsRetentionMs: e.EVENTS_RETENTION_MS,
    eventsMaxLatenessMs: e.EVENTS_MAX_LATENESS_MS,
  };
}
