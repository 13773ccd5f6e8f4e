/**
 * GET /health: 200 while the process is up (liveness).
 * GET /ready: 200 only while the host can reach an etcd quorum (readiness); 503 otherwise, so a
 * load balancer routes payments away from a host cut off from etcd.
 */
import type { Context } from 'hono';
import type { FunctionDeps } from './deps';

export function health({ hostId }: FunctionDeps) {
  return (c: Context) => c.json({ status: 'ok', host: hostId });
}

export function ready({ ledger, hostId }: FunctionDeps) {
  return async (c: Context) => {
    await ledger.ping();
    return c.json({ status: 'ready', host: hostId });
  };
}
