/**
 * Everything a function host runs besides its HTTP handlers: membership, the leader campaign, the
 * etcd member probe, the quota guard and the leader's maintenance duty, started and stopped together. The host
 * hands `status` to the app (GET /cluster, /ready) and `view` to whoever needs the ClusterView.
 */
import type { Etcd3 } from 'etcd3';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import type { Clock } from '../clock/clock';
import { EtcdEndpointHealth } from '../etcd/endpoint-health';
import type { EtcdEndpointRouting } from '../etcd/endpoint-routing';
import type { EtcdTlsCredentials } from '../etcd/etcd-client';
import { coordinationKeys } from '../etcd/key-layout';
import type { ClusterView, LeaderInfo } from './cluster-view';
import { EtcdClusterView } from './etcd-cluster-view';
import { EtcdMemberProbe, type EtcdMemberStatus } from './etcd-members';
import { LeaderElection } from './leader-election';
import { LedgerMaintenance } from './ledger-maintenance';
import { type HostStatus, Membership } from './membership';
import {
  DEFAULT_HIGH_WATER_RATIO,
  DEFAULT_QUOTA_BYTES,
  etcdStorageSource,
  QuotaGuard,
  type QuotaGuardOptions,
  type StorageReport,
} from './quota-guard';

/** What GET /cluster reports (functions/handlers/cluster-status.ts): membership, election and the member probe. */
export interface ClusterStatusSource {
  selfId: string;
  hosts(): HostStatus[];
  leader(): LeaderInfo | undefined;
  isLeader(): boolean;
  registered(): boolean;
  etcdMembers(): Promise<EtcdMemberStatus[]>;
  /** The quota guard's latest report (GET /cluster, /ready, and the payments it refuses). */
  storage?: () => StorageReport;
  /** False while no etcd member answers this host's health probe (etcd/endpoint-health.ts). */
  etcdReachable?: () => boolean;
  /** Calls `listener` when etcdReachable changes; returns the unsubscribe. */
  onEtcdReachability?: (listener: (reachable: boolean) => void) => () => void;
  /** Names of the watch-backed views that may be out of date right now (/ready refuses while any is). */
  staleViews?: () => string[];
  /** Extra per-host fields from other coordination features, e.g. `{ clockOffsetMs }`. */
  hostDetails?: (host: HostStatus) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** A watch-backed view /ready should know about: its name (as in etcd_watch_restarts_total) and whether it may be stale. */
export interface WatchedView {
  name: string;
  stale(): boolean;
}

export interface HostCoordinationOptions {
  client: Etcd3;
  clock: Clock;
  /** Every etcd client URL, probed one by one for /cluster. */
  etcdEndpoints: string[];
  /** TLS credentials for the per-member probe clients, as the main client's. Default none. */
  etcdTls?: EtcdTlsCredentials;
  /** The main client's routing (given to createEtcdClient), steered by the health probe. Default none. */
  etcdRouting?: EtcdEndpointRouting;
  hostId: string;
  /** URL other hosts and clients reach this host at. */
  url: string;
  version: string;
  /** Key root. Default DEFAULT_ROOT (`/pay/v2`, ledger/etcd/key-layout.ts). */
  root?: string;
  /** Membership and campaign lease TTL, s. Default 2. */
  ttlSeconds?: number;
  /** Leader maintenance period, ms. Default scaled to the quota (compaction-scale.ts): 1-30 s. */
  maintenanceIntervalMs?: number;
  /** The quota guard's quota, mark and poll interval (coordination/cluster/quota-guard.ts). Defaults there. */
  quota?: Pick<QuotaGuardOptions, 'quotaBytes' | 'highWaterRatio' | 'intervalMs'>;
  /** Called when a watch is rebuilt after a failure, e.g. a compacted revision (for metrics). */
  onWatchRestart?: (watch: string, reason: string) => void;
  /**
   * The host's other watch-backed views, reported in `staleViews` (so /ready) beside membership
   * and election, e.g. the archived-id summary (ledger/etcd/archived-id-cache.ts). Default none.
   */
  views?: WatchedView[];
  log?: (event: Record<string, unknown>) => void;
}

export interface HostCoordination {
  view: ClusterView;
  election: LeaderElection;
  membership: Membership;
  status: ClusterStatusSource;
  quotaGuard: QuotaGuard;
  start(): void;
  /** Resigns leadership and deregisters, so the cluster notices at once rather than after the TTL. */
  close(): Promise<void>;
}

export function createHostCoordination({
  client,
  clock,
  etcdEndpoints,
  etcdTls,
  etcdRouting,
  hostId,
  url,
  version,
  root,
  ttlSeconds = 2,
  maintenanceIntervalMs,
  quota = {},
  onWatchRestart,
  views = [],
  log = () => {},
}: HostCoordinationOptions): HostCoordination {
  const shared = { client, clock, root, ttlSeconds, log, onWatchRestart };
  const membership = new Membership({ ...shared, self: { id: hostId, url, version } });
  const election = new LeaderElection({ ...shared, self: { id: hostId, url } });
  const members = new EtcdMemberProbe({ endpoints: etcdEndpoints, client, tls: etcdTls });
  const maintenance = new LedgerMaintenance({
    client,
    election,
    members,
    clock,
    hostId,
    root,
    log,
    intervalMs: maintenanceIntervalMs,
    quota: {
      quotaBytes: quota.quotaBytes ?? DEFAULT_QUOTA_BYTES,
      highWaterRatio: quota.highWaterRatio ?? DEFAULT_HIGH_WATER_RATIO,
    },
  });
  const quotaGuard = new QuotaGuard({ ...quota, source: etcdStorageSource(members, client), log });
  const health = new EtcdEndpointHealth({
    endpoints: etcdEndpoints,
    tls: etcdTls,
    routing: etcdRouting,
    probeKey: coordinationKeys(root ?? DEFAULT_ROOT).host(hostId),
    log,
  });
  const view = new EtcdClusterView(hostId, membership, election);
  const status: ClusterStatusSource = {
    selfId: hostId,
    hosts: () => membership.hosts(),
    leader: () => election.leader(),
    isLeader: () => election.isLeader(),
    registered: () => membership.registered(),
    etcdMembers: () => members.statuses(),
    storage: () => quotaGuard.report(),
    etcdReachable: () => health.reachable(),
    onEtcdReachability: (listener) => health.onChange(listener),
    staleViews: () =>
      [
        { name: 'membership', stale: () => membership.viewStale() },
        { name: 'election', stale: () => election.viewStale() },
        ...views,
      ]
        .filter((view) => view.stale())
        .map((view) => view.name),
  };
  return {
    view,
    election,
    membership,
    status,
    quotaGuard,
    start() {
      quotaGuard.start();
      health.start();
      membership.start();
      election.start();
      maintenance.start();
    },
    async close() {
      maintenance.stop();
      quotaGuard.stop();
      await Promise.all([election.close(), membership.close()]);
      members.close();
      health.stop();
    },
  };
}
