/**
 * Answers 503 (`unavailable`, Retry-After) at once on the ledger routes while this host has lost
 * etcd, instead of letting requests wait out their deadlines (issue 15 §4): a client then fails
 * over to another host within the time it takes to notice, not after its attempt timeout.
 *
 * "Lost" means no etcd member has answered the host's health probe lately
 * (coordination/etcd/endpoint-health.ts). The membership lease's validity is not used here: it
 * also lapses on every host during an etcd leader election, when waiting is better than turning
 * every client away (the lease still gates /ready). Requests
 * already waiting on etcd when the loss is noticed are answered 503 too. Their etcd call may
 * still commit later; that is safe because a client retries with the same payment id, and a
 * committed id comes back as replayed, never as a second payment.
 */
import type { MiddlewareHandler } from 'hono';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';
import { QuorumUnavailableError } from '../../ledger/errors';

export function etcdReachability(cluster: ClusterStatusSource): MiddlewareHandler {
  const lostError = () => new QuorumUnavailableError(`${cluster.selfId} cannot reach etcd; try another host`);
  return async (_c, next) => {
    if (!cluster.etcdReachable || !cluster.onEtcdReachability) return next();
    if (!cluster.etcdReachable()) throw lostError();
    let off = () => {};
    const lost = new Promise<never>((_, reject) => {
      off = cluster.onEtcdReachability!((reachable) => {
        if (!reachable) reject(lostError());
      });
    });
    const work = next();
    try {
      await Promise.race([work, lost]);
    } finally {
      off();
      work.catch(() => undefined); // answered 503 already; the late outcome has no one to go to
    }
  };
}
