/**
 * GET /health: 200 while the process is up (liveness).
 * GET /ready: 200 only while the host can reach an etcd quorum, (when it runs with cluster
 * membership) its membership key is registered and its watch-backed views are current, and (with
 * clock synchronization) its clock is within the maximum offset of the cluster's; 503 otherwise,
 * so a load balancer routes payments away from a host cut off from etcd, not yet part of the
 * cluster, with a possibly stale view of it, or with a clock out of bounds.
 * While the quota guard refuses payments for storage (storage_full), /ready stays 200, since reads
 * are served and every host shares the same etcd, but says so: `status: "degraded"` and a `reason`.
 */
import type { Context } from 'hono';
import { storageSummary } from '../../coordination/cluster/quota-guard';
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
    const storage = cluster?.storage?.();
    if (storage?.full) {
      return c.json({
        status: 'degraded',
        host: hostId,
        reason: `payments refused (storage_full): ${storageSummary(storage)}`,
      });
    }
    return c.json({ status: 'ready', host: hostId });
  };
}
