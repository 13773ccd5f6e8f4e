/**
 * `payctl status`: the cluster at a glance. It reads GET /cluster (hosts, leader, etcd members);
 * where a host does not serve it yet, hosts come from the local state file and etcd members from
 * the host's own probe (GET /dashboard/etcd-members), and the leader shows as not available.
 */
import type { EtcdMemberStatus } from '../coordination/cluster/etcd-members';
import type { LocalClusterState } from '../dev/cluster/local-control';
import type { ApiClient } from './api';
import { table } from './output';

export interface HostRow {
  id: string;
  url: string;
  alive: boolean;
  since?: string;
  clockOffsetMs?: number;
  clockErrorBoundMs?: number;
}

export interface ClusterStatus {
  /** Where the picture came from: `cluster` (GET /cluster) or `fallback`. */
  source: 'cluster' | 'fallback';
  hosts: HostRow[];
  leader: { id: string; since?: string; fencingToken?: string } | null | 'not available';
  etcd: { members: EtcdMemberStatus[] };
  answeredBy: string;
}

interface ClusterAnswer {
  hosts?: HostRow[];
  leader?: ClusterStatus['leader'];
  etcd?: { members?: EtcdMemberStatus[] };
}

export async function readStatus(
  api: ApiClient,
  local: LocalClusterState | undefined,
): Promise<ClusterStatus> {
  const cluster = await api.optional<ClusterAnswer>('/cluster');
  if (cluster?.body.etcd?.members) {
    return {
      source: 'cluster',
      hosts: cluster.body.hosts ?? [],
      leader: cluster.body.leader ?? null,
      etcd: { members: cluster.body.etcd.members },
      answeredBy: cluster.host,
    };
  }
  const members = await api.json<{ members: EtcdMemberStatus[] }>('/dashboard/etcd-members');
  const hostUrls = local
    ? local.processes.filter((p) => p.kind === 'host').map((p) => ({ id: p.name, url: p.url }))
    : api.hosts.map((url) => ({ id: url, url }));
  const hosts = await Promise.all(
    hostUrls.map(async ({ id, url }) => {
      const alive = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1500) })
        .then((r) => r.ok)
        .catch(() => false);
      return { id, url, alive };
    }),
  );
  return {
    source: 'fallback',
    hosts,
    leader: 'not available',
    etcd: { members: members.body.members },
    answeredBy: members.host,
  };
}

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} ms`);

export function renderStatus(s: ClusterStatus): string {
  const leaderId = typeof s.leader === 'object' && s.leader ? s.leader.id : undefined;
  const healthy = s.etcd.members.filter((m) => m.healthy).length;
  const quorum = healthy > s.etcd.members.length / 2;
  const leaderLine =
    s.leader === 'not available'
      ? 'not available (this host serves no GET /cluster)'
      : s.leader === null
        ? 'NONE'
        : `${s.leader.id} since ${s.leader.since ?? '?'}, fencing token ${s.leader.fencingToken ?? '?'}`;
  return [
    `etcd: ${healthy}/${s.etcd.members.length} members healthy${quorum ? '' : ' — NO QUORUM, payments are refused'}`,
    `host leader: ${leaderLine}`,
    '',
    'HOSTS',
    table(
      s.hosts.map((h) => ({
        host: h.id,
        state: h.alive ? 'alive' : 'DOWN',
        role: h.id === leaderId ? 'leader' : '',
        'clock offset': ms(h.clockOffsetMs),
        'error bound': ms(h.clockErrorBoundMs),
        url: h.url,
      })),
    ),
    '',
    'ETCD MEMBERS',
    table(
      s.etcd.members.map((m) => ({
        member: m.name,
        state: m.healthy ? 'healthy' : 'DOWN',
        role: m.isLeader ? 'raft leader' : m.healthy ? 'follower' : '',
        'raft term': m.raftTerm,
        'raft index': m.raftIndex,
        url: m.clientUrl,
      })),
    ),
    '',
    `(answered by ${s.answeredBy}${s.source === 'fallback' ? '; GET /cluster not available, members probed by that host' : ''})`,
  ].join('\n');
}
