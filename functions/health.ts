/**
 * GET /health: 200 while the process is up (liveness).
 * GET /ready: 200 only while the host can reach an etcd quorum (readiness); 503 otherwise, so a
 * load balancer routes payments away from a host cut off from etcd. With clock synchronization,
 * also 503 while the host's clock may be further from the cluster's than the maximum offset.
 */
import type { Context } from 'hono';
import { ClockOffsetError } from '../ledger/errors';
import type { FunctionDeps } from './deps';

export function health({ hostId }: FunctionDeps) {
  return (c: Context) => c.json({ status: 'ok', host: hostId });
}

export function ready({ ledger, hostId, clocks }: FunctionDeps) {
  return async (c: Context) => {
    await ledger.ping();
    const clock = clocks?.sync?.readiness();
    if (clock && !clock.ok) throw new ClockOffsetError(clock.reason ?? 'out of bounds');
    return c.json({ status: 'ready', host: hostId });
  };
}
