/**
 * GET /health: 200 while the process is up (liveness).
 * GET /ready: 200 only while the host can reach an etcd quorum, (when it runs with cluster
 * membership) its membership key is registered and its watch-backed views are current, and (with
 * clock synchronization) its clock is within the maximum offset of the cluster's; 503 otherwise,
 * so a load balancer routes payments away from a host cut off from etcd, not yet part of the
 * cluster, with a possibly stale view of it, or with a clock out of bounds.
 */
import type { Context } from 'hono';
import { ClockOffsetError, QuorumUnavailableError } from '../../ledger/errors';
import type { FunctionDeps } from '../deps';

export function health({ hostId }: FunctionDeps) {
  return (c: Context) => c.json({ status: 'ok', host: hostId });
}

export function ready({ ledger, hostId, cluster, clocks }: FunctionDeps) {
  return async (c: Context) => {
    // Before the ping, which would wait out its deadline on a host cut off from etcd.
    if (cluster?.etcdReachable && !cluster.etcdReachable()) {
      throw new QuorumUnavailableError(`${hostId} cannot reach any etcd member`);
    }
    await ledger.ping();
    if (cluster && !cluster.registered()) throw new QuorumUnavailableError(`${hostId} is not registered yet`);
    const stale = cluster?.staleViews?.() ?? [];
    if (stale.length > 0) {
      throw new QuorumUnavailableError(`${hostId}'s view of the cluster may be stale: ${stale.join(', ')}`);
    }
    const clock = clocks?.sync?.readiness();
    if (clock && !clock.ok) throw new ClockOffsetError(clock.reason ?? 'out of bounds');
    return c.json({ status: 'ready', host: hostId });
  };
}
