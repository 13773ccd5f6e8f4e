/**
 * The host's configuration, read from the environment once, at start-up, and nowhere below.
 *
 *   HOST_ID                  id recorded on committed payments          default host-<port>
 *   HOST_PORT                HTTP port                                  default 8081
 *   HOST_BIND                address to listen on                       default 127.0.0.1
 *   ETCD_ENDPOINTS           comma-separated etcd client URLs           default http://127.0.0.1:2379
 *   ETCD_CA_FILE             CA of the etcd members' certificates (PEM)  default none: plain http
 *   ETCD_CERT_FILE           this host's etcd client certificate (PEM;   default none
 *                            its CN is the etcd user, payments-host)
 *   ETCD_KEY_FILE            its private key (PEM); all three or none    default none
 *   ETCD_CALL_DEADLINE_MS    deadline of one etcd call on one member    default 1500
 *   REQUEST_DEADLINE_MS      bound on one ledger operation, retries in  default 5000
 *   LEDGER_ROOT              etcd key root of the ledger                default /pay/v2
 *   HOST_URL                 URL advertised in membership               default http://<bind>:<port>
 *   MEMBERSHIP_TTL_S         membership and campaign lease TTL, s       default 2 (etcd minimum: 1.5 ×
 *                                                                       its election timeout)
 *   MAINTENANCE_INTERVAL_MS  leader's ledger maintenance period, ms     default scaled to the quota:
 *                                                                       1000-30000 (30000 from 256 MiB;
 *                                                                       coordination/cluster/compaction-scale.ts)
 *   COMMIT_BATCHING          group commit on or off (on|off)            default on
 *   COMMIT_BATCH_MAX         most payments in one etcd transaction      default 256
 *   COMMIT_BATCH_WINDOW_MS   wait for companions while busy, ms         default 2
 *   COMMIT_MAX_IN_FLIGHT     most commit transactions outstanding       default 4
 *   COMMIT_MAX_QUEUED        payments waiting before new ones are shed  default 512
 *   HOST_MAX_REQUESTS_IN_PROGRESS  requests in progress before new    default 128
 *                            ones are shed with 503 (probes excepted; functions/middleware/requests-in-progress.ts)
 *   HOST_MAX_REQUESTS_PER_KEY  one API key's share of those; its next   default half of
 *                            request is shed (functions/middleware/    HOST_MAX_REQUESTS_IN_PROGRESS
 *                            requests-in-progress.ts)
 *   HOST_BODY_TIMEOUT_MS     time a request body may take to arrive,    default 10000
 *                            ms; a slower one is answered 408
 *   HOST_HEADERS_TIMEOUT_MS  time the request line and headers may     default 10000
 *                            take to arrive, ms; slower: 408 and the
 *                            connection closed (functions/server-timeouts.ts)
 *   ETCD_MAX_TXN_OPS         the etcd cluster's --max-txn-ops           default 2048 (set 128 for a stock etcd)
 *   ETCD_QUOTA_BYTES         the etcd cluster's --quota-backend-bytes   default 2147483648 (etcd's own
 *                            (the launcher passes what it gave etcd)    default, without the flag)
 *   ETCD_QUOTA_HIGH_WATER    fraction of the quota past which payments  default 0.9
 *                            get 503 storage_full (coordination/cluster/quota-guard.ts)
 *   QUOTA_GUARD_INTERVAL_MS  how often db sizes and alarms are read     default 1000
 *   ARCHIVE_URL              PostgreSQL of the payment archive and the  default none: no archive
 *                            event log, as the host role (postgres://payments_host:…@host:port/db;
 *                            ledger/archive/, issue 14). Without it the ledger is etcd alone,
 *                            nothing is archived, and the event log stays in etcd
 *   LEDGER_HOT_WINDOW        payments younger than this stay in etcd;   default 1h (docs/operations.md)
 *                            the leader archives older ones (20s, 15m, 24h, 500ms, 7d)
 *   ARCHIVE_CA_FILE          CA (PEM) of an external PostgreSQL's       default the system CAs
 *                            certificate: non-loopback URLs always use TLS (ledger/archive/pg-connection.ts)
 *   ARCHIVE_STATEMENT_TIMEOUT_MS  bound on one archive query, ms        default 2000
 *   ARCHIVAL_MIN_BATCH       the leader archives once this many are due default 8192
 *   ARCHIVAL_MAX_DELAY_MS    ...or once the oldest due one is this far  default 10000
 *                            past the hot window: big steps rewrite each summary level less often
 *                            per id (coordination/cluster/ledger-archiver.ts); etcd holds the hot
 *                            window plus up to this delay
 *   ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS  TESTS ONLY: the archiving leader default 0 (no pause)
 *                            logs `archival paused after insert` and waits this long between a
 *                            step's archive insert and its removal from etcd, so a soak can kill
 *                            it there (dev/soak/). Never set in production
 *   LOG_LEVEL                fatal|error|warn|info|debug|trace|silent   default info
 *   API_KEY_CACHE_TTL_MS     how long a host trusts a read API key: the default 1000
 *                            bound on how late a revocation takes effect
 *   API_KEY_RATE_LIMIT_RPS   requests/s per API key on one host, for    default 1000
 *                            keys that set none (0 = unlimited)
 *   AUTH_FAILURES_PER_ADDRESS_RPS  failed authentications/s per client  default 20
 *                            address before key reads from etcd are
 *                            refused with 429 (0 = unlimited)
 *
 * Clocks (coordination/clock/clock.ts, clock-sync.ts, event-log.ts):
 *   CLOCK_OFFSET_MS          simulated offset of this host's clock, ms  default 0
 *   CLOCK_DRIFT_PPM          simulated drift of this host's clock, ppm  default 0
 *   CLOCK_MAX_SLEW_RATE      fastest slew, ms per ms                    default 0.5
 *   CLOCK_SYNC_INTERVAL_MS   period of the master's Berkeley rounds     default 1000
 *   CLOCK_RESYNC_ERROR_MS    Cristian re-sync threshold on the error    default 25
 *   CLOCK_MAX_OFFSET_MS      /ready is 503 beyond this offset           default 500
 *   CLOCK_SYNC               set to `off` to disable synchronization    default on
 *   NTP_SERVERS              host:port,... the time master's NTP        default none: internal
 *                            reference (coordination/clock-sync/ntp-reference.ts)  agreement only
 *   CLUSTER_HOSTS            id=url,... a static cluster view instead   default none: the etcd
 *                            of etcd membership (tests, debugging)      membership view
 *   CLUSTER_LEADER           leader (time master) of the static view    default first host
 *   EVENTS_FLUSH_MS          event shipping period                      default 500
 *   EVENTS_RETENTION_MS      how long etcd keeps events                 default 3600000
 *   EVENTS_MAX_LATENESS_MS   GET /events stops waiting for a host       default 5000
 */
import { z } from 'zod';
import { parseNtpServer } from '../coordination/clock-sync/ntp-reference';
import type { HostInfo } from '../coordination/cluster/cluster-view';
import { DEFAULT_HIGH_WATER_RATIO, DEFAULT_QUOTA_BYTES } from '../coordination/cluster/quota-guard';
import { parseClusterHosts } from '../coordination/cluster/static-cluster-view';
import { DEFAULT_MAX_QUEUED } from '../ledger/etcd/commit-batcher';
import { DEFAULT_ROOT } from '../ledger/etcd/key-layout';
import { DEFAULT_BODY_TIMEOUT_MS } from './middleware/request-body';
import { DEFAULT_MAX_REQUESTS_IN_PROGRESS } from './middleware/requests-in-progress';
import { LOG_LEVELS, type LogLevel } from './observability/logger';
import { DEFAULT_HEADERS_TIMEOUT_MS } from './server-timeouts';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Default hot window. A payment takes about 840 bytes in each etcd member (issue 14), so an hour
 * at 1,000 payments/s is 3.6 M payments, about 3 GB, under the 8 GiB quota; and an hour covers
 * the retries clients make, which etcd then answers alone.
 */
export const DEFAULT_HOT_WINDOW = '1h';

const DURATION_UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `20s`, `15m`, `24h`, `500ms`, `7d` in ms; undefined when the text is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
}

const envSchema = z.object({
  HOST_PORT: positiveInt(8081),
  HOST_BIND: z.string().default('127.0.0.1'),
  HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/)
    .optional(),
  ETCD_ENDPOINTS: z.string().default('http://127.0.0.1:2379'),
  ETCD_CA_FILE: z.string().min(1).optional(),
  ETCD_CERT_FILE: z.string().min(1).optional(),
  ETCD_KEY_FILE: z.string().min(1).optional(),
  ETCD_CALL_DEADLINE_MS: positiveInt(1500),
  REQUEST_DEADLINE_MS: positiveInt(5000),
  LEDGER_ROOT: z.string().startsWith('/').default(DEFAULT_ROOT),
  HOST_URL: z.url().optional(),
  MEMBERSHIP_TTL_S: positiveInt(2),
  MAINTENANCE_INTERVAL_MS: z.coerce.number().int().positive().optional(),
  COMMIT_BATCHING: z.enum(['on', 'off']).default('on'),
  COMMIT_BATCH_MAX: positiveInt(256),
  COMMIT_BATCH_WINDOW_MS: z.coerce.number().min(0).default(2),
  COMMIT_MAX_IN_FLIGHT: positiveInt(4),
  COMMIT_MAX_QUEUED: positiveInt(DEFAULT_MAX_QUEUED),
  HOST_MAX_REQUESTS_IN_PROGRESS: positiveInt(DEFAULT_MAX_REQUESTS_IN_PROGRESS),
  HOST_MAX_REQUESTS_PER_KEY: z.coerce.number().int().positive().optional(),
  HOST_BODY_TIMEOUT_MS: positiveInt(DEFAULT_BODY_TIMEOUT_MS),
  HOST_HEADERS_TIMEOUT_MS: positiveInt(DEFAULT_HEADERS_TIMEOUT_MS),
  ETCD_MAX_TXN_OPS: z.coerce.number().int().min(4).default(2048),
  ETCD_QUOTA_BYTES: positiveInt(DEFAULT_QUOTA_BYTES),
  ETCD_QUOTA_HIGH_WATER: z.coerce.number().gt(0).max(1).default(DEFAULT_HIGH_WATER_RATIO),
  QUOTA_GUARD_INTERVAL_MS: positiveInt(1000),
  ARCHIVE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^/]+/, 'must be a postgres:// URL')
    .optional(),
  ARCHIVE_CA_FILE: z.string().min(1).optional(),
  LEDGER_HOT_WINDOW: z
    .string()
    .default(DEFAULT_HOT_WINDOW)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined)
        ctx.addIssue({ code: 'custom', message: `not a duration: ${text} (e.g. 20s, 15m, 24h)` });
      return ms ?? 0;
    }),
  ARCHIVE_STATEMENT_TIMEOUT_MS: positiveInt(2000),
  ARCHIVAL_MIN_BATCH: positiveInt(8192),
  ARCHIVAL_MAX_DELAY_MS: z.coerce.number().int().min(0).default(10_000),
  ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  API_KEY_CACHE_TTL_MS: positiveInt(1000),
  API_KEY_RATE_LIMIT_RPS: z.coerce.number().int().min(0).default(1000),
  AUTH_FAILURES_PER_ADDRESS_RPS: z.coerce.number().int().min(0).default(20),
  CLOCK_OFFSET_MS: z.coerce.number().finite().default(0),
  CLOCK_DRIFT_PPM: z.coerce.number().finite().min(-100_000).max(100_000).default(0),
  CLOCK_MAX_SLEW_RATE: z.coerce.number().gt(0).lt(1).default(0.5),
  CLOCK_SYNC_INTERVAL_MS: positiveInt(1000),
  CLOCK_RESYNC_ERROR_MS: positiveInt(25),
  CLOCK_MAX_OFFSET_MS: positiveInt(500),
  CLOCK_SYNC: z.enum(['on', 'off']).default('on'),
  NTP_SERVERS: z.string().optional(),
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
  maxOffsetMs: number;
  syncEnabled: boolean;
  /** NTP servers (`host:port`) the time master disciplines its clock against; empty: none. */
  ntpServers: string[];
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
  /** etcd TLS client credentials (file paths), when the cluster is secured. */
  etcdTls: { ca: string; cert: string; key: string } | undefined;
  etcdCallDeadlineMs: number;
  requestDeadlineMs: number;
  ledgerRoot: string;
  advertisedUrl: string;
  membershipTtlSeconds: number;
  /** The leader's maintenance period, ms; undefined: scaled to the quota (compaction-scale.ts). */
  maintenanceIntervalMs: number | undefined;
  /** Group commit settings for EtcdLedger, or false for one transaction per payment. */
  batching:
    | { maxBatchSize: number; windowMs: number; maxInFlight: number; maxTxnOps: number; maxQueued: number }
    | false;
  /** The payment archive and event log on PostgreSQL (issue 14), when ARCHIVE_URL is set. */
  archive:
    | {
        url: string;
        caFile: string | undefined;
        statementTimeoutMs: number;
        hotWindowMs: number;
        /** Test-only pause between an archival step's insert and its removal, ms; 0: none. */
        testPauseAfterInsertMs: number;
      }
    | undefined;
  /** The leader archives once `minBatch` payments are due, or the oldest is `maxDelayMs` past the window. */
  archival: { minBatch: number; maxDelayMs: number };
  logLevel: LogLevel;
  /** API key verification cache, the default per-key rate limit, failed authentications per address (functions/auth/). */
  auth: { cacheTtlMs: number; rateLimitPerSecond: number; failedAuthPerAddressPerSecond: number };
  clocks: ClockConfig;
  /** Requests in progress past which new ones are shed (functions/middleware/requests-in-progress.ts). */
  maxRequestsInProgress: number;
  /** The quota guard (coordination/cluster/quota-guard.ts): etcd's quota, the mark as a fraction of it, the poll period. */
  quota: { quotaBytes: number; highWaterRatio: number; intervalMs: number };
  /** One API key's share of them; undefined: half (functions/app.ts). */
  maxRequestsPerKey: number | undefined;
  /** Time a request body may take to arrive, ms (functions/middleware/request-body.ts). */
  bodyTimeoutMs: number;
  /** Time the request line and headers may take to arrive, ms (functions/server-timeouts.ts). */
  headersTimeoutMs: number;
}

export function readHostConfig(env: NodeJS.ProcessEnv): HostConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`bad host configuration: ${problems}`);
  }
  const e = parsed.data;
  const tlsFiles = [e.ETCD_CA_FILE, e.ETCD_CERT_FILE, e.ETCD_KEY_FILE];
  if (tlsFiles.some(Boolean) && !tlsFiles.every(Boolean)) {
    throw new Error('bad host configuration: set all of ETCD_CA_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE or none');
  }
  return {
    hostId: e.HOST_ID ?? `host-${e.HOST_PORT}`,
    port: e.HOST_PORT,
    bind: e.HOST_BIND,
    etcdEndpoints: e.ETCD_ENDPOINTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    etcdTls:
      e.ETCD_CA_FILE && e.ETCD_CERT_FILE && e.ETCD_KEY_FILE
        ? { ca: e.ETCD_CA_FILE, cert: e.ETCD_CERT_FILE, key: e.ETCD_KEY_FILE }
        : undefined,
    etcdCallDeadlineMs: e.ETCD_CALL_DEADLINE_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    ledgerRoot: e.LEDGER_ROOT,
    advertisedUrl: e.HOST_URL ?? `http://${e.HOST_BIND}:${e.HOST_PORT}`,
    membershipTtlSeconds: e.MEMBERSHIP_TTL_S,
    maintenanceIntervalMs: e.MAINTENANCE_INTERVAL_MS,
    batching:
      e.COMMIT_BATCHING === 'off'
        ? false
        : {
            maxBatchSize: e.COMMIT_BATCH_MAX,
            windowMs: e.COMMIT_BATCH_WINDOW_MS,
            maxInFlight: e.COMMIT_MAX_IN_FLIGHT,
            maxQueued: e.COMMIT_MAX_QUEUED,
            maxTxnOps: e.ETCD_MAX_TXN_OPS,
          },
    archive: e.ARCHIVE_URL
      ? {
          url: e.ARCHIVE_URL,
          caFile: e.ARCHIVE_CA_FILE,
          statementTimeoutMs: e.ARCHIVE_STATEMENT_TIMEOUT_MS,
          hotWindowMs: e.LEDGER_HOT_WINDOW,
          testPauseAfterInsertMs: e.ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS,
        }
      : undefined,
    archival: { minBatch: e.ARCHIVAL_MIN_BATCH, maxDelayMs: e.ARCHIVAL_MAX_DELAY_MS },
    logLevel: e.LOG_LEVEL,
    auth: {
      cacheTtlMs: e.API_KEY_CACHE_TTL_MS,
      rateLimitPerSecond: e.API_KEY_RATE_LIMIT_RPS,
      failedAuthPerAddressPerSecond: e.AUTH_FAILURES_PER_ADDRESS_RPS,
    },
    clocks: readClockConfig(e),
    maxRequestsInProgress: e.HOST_MAX_REQUESTS_IN_PROGRESS,
    quota: {
      quotaBytes: e.ETCD_QUOTA_BYTES,
      highWaterRatio: e.ETCD_QUOTA_HIGH_WATER,
      intervalMs: e.QUOTA_GUARD_INTERVAL_MS,
    },
    maxRequestsPerKey: e.HOST_MAX_REQUESTS_PER_KEY,
    bodyTimeoutMs: e.HOST_BODY_TIMEOUT_MS,
    headersTimeoutMs: e.HOST_HEADERS_TIMEOUT_MS,
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
    maxOffsetMs: e.CLOCK_MAX_OFFSET_MS,
    syncEnabled: e.CLOCK_SYNC === 'on',
    ntpServers: (e.NTP_SERVERS ?? '')
      .split(',')
      .map((server) => server.trim())
      .filter(Boolean)
      .map((server) => {
        parseNtpServer(server);
        return server;
      }),
    clusterHosts,
    clusterLeader: e.CLUSTER_LEADER ?? clusterHosts?.[0]?.id,
    eventsFlushMs: e.EVENTS_FLUSH_MS,
    eventsRetentionMs: e.EVENTS_RETENTION_MS,
    eventsMaxLatenessMs: e.EVENTS_MAX_LATENESS_MS,
  };
}
