/**
 * GET /health: 200 while the process is up (liveness).
 * GET /ready: 200 only while the host can reach an etcd quorum and (when it runs with cluster
 * membership) its membership key is registered; 503 otherwise, so a load balancer routes payments
 * away from a host cut off from etcd or not yet part of the cluster.
 */
import type { Context } from 'hono';
import { QuorumUnavailableError } from '../ledger/errors';
import type { FunctionDeps } from './deps';

export function health({ hostId }: FunctionDeps) {
  return (c: Context) => c.json({ status: 'ok', host: hostId });
}

export function ready({ ledger, hostId, cluster }: FunctionDeps) {
  return async (c: Context) => {
    await ledger.ping();
    if (cluster && !cluster.registered()) throw new QuorumUnavailableError(`${hostId} is not registered yet`);
    return c.json({ status: 'ready', host: hostId });
  };
}
