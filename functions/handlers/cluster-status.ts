/**
 * GET /cluster: this host's view of the cluster, the same shape on every host.
 *   hosts        [{ id, url, alive, since, version }]  live hosts, and recently departed ones (alive false)
 *   leader       { id, url, since, fencingToken } | null
 *   self         { id, isLeader, registered }
 *   etcd.members [{ name, clientUrl, healthy, isLeader, raftTerm, raftIndex, dbSizeBytes, ... }]
 *   etcd.storage { quotaBytes, highWaterBytes, full, reason, members, alarms, checkedAt }: the
 *                quota guard's report (coordination/cluster/quota-guard.ts); alarms with
 *                explained false are incidents
 * Fields other coordination features add per host (e.g. clock offsets) come from `hostDetails`.
 *
 * GET /hosts: only the live hosts' ids and URLs, for any API key: what a payment client needs to
 * discover where to send payments (client/payments-client.ts), without the admin view.
 */
import type { Context } from 'hono';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';

export function clusterStatus(source: ClusterStatusSource) {
  return async (c: Context) => {
    const [members, hosts] = await Promise.all([
      source.etcdMembers(),
      Promise.all(source.hosts().map(async (h) => ({ ...h, ...(await source.hostDetails?.(h)) }))),
    ]);
    const leader = source.leader();
    return c.json({
      self: { id: source.selfId, isLeader: source.isLeader(), registered: source.registered() },
      hosts,
      leader: leader ?? null,
      etcd: { members, ...(source.storage && { storage: source.storage() }) },
    });
  };
}

export function liveHosts(source: ClusterStatusSource) {
  return (c: Context) =>
    c.json({ hosts: source.hosts().flatMap((h) => (h.alive ? [{ id: h.id, url: h.url }] : [])) });
}
