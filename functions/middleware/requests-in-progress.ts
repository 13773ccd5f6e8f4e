/**
 * Host-wide load shedding: a bound on the requests this host has in progress. Past it, a new
 * request is refused at once with 503 `overloaded` and `Retry-After`, before its body is read or
 * anything reaches the ledger, so an overloaded host answers in microseconds instead of queueing
 * requests until they time out, and its memory stays bounded by the bound, not by the offered load.
 *
 * Why a count of requests and not only the commit queue (ledger/etcd/commit-batcher.ts): every request
 * in progress holds its socket, parsed headers, body and handler closures whatever it waits for
 * (body, clock guard, a history read, a commit), and reads never enter the commit queue. By
 * Little's law the requests in progress are throughput × latency, so bounding them bounds the
 * wait of an accepted request too: see docs/performance.md, "Overload", for the default's figures.
 *
 * Probes and scrapes (/health, /ready, /metrics) are never shed: operators must see an overloaded
 * host, and a load balancer must not take a busy host for a dead one. Neither are the time
 * master's clock polls (GET /time: no etcd, no body, a few a second): shedding them would leave a
 * busy host's clock unsynchronized, and then it would refuse payments for its clock as well.
 */
import type { MiddlewareHandler } from 'hono';
import { HostBusyError, KeyBusyError } from '../http-errors';
import type { Metrics } from '../observability/metrics';

/**
 * Default bound on requests in progress per host. By Little's law, requests in progress =
 * throughput × latency, so the bound should admit what a healthy host holds at its sustainable
 * rate even at its p99 latency, and refuse beyond: on this 2-core machine ~100 payments/s per host
 * × ~0.9 s ≈ 90 (docs/performance.md, "Overload"). At 64 a healthy run at 80 % of the sustainable
 * rate already shed a few requests during a latency spike; 32 capped throughput well below it.
 * Past the bound an accepted request waits about bound ÷ per-host throughput, inside the 5 s
 * operation deadline. The price of a fixed count: on a quiet machine it capped three hosts near
 * 1,300 payments/s (384 in progress at ~0.3 s) where unbounded hosts reached 1,900/s.
 */
export const DEFAULT_MAX_REQUESTS_IN_PROGRESS = 128;

/** Paths answered whatever the load (exact match). */
export const NEVER_SHED_PATHS: readonly string[] = ['/health', '/ready', '/metrics', '/time'];

export interface RequestsInProgressOptions {
  /** Most requests in progress at once; the next one is shed. Default DEFAULT_MAX_REQUESTS_IN_PROGRESS. */
  max?: number;
  /** Counts shed requests (`shed_requests_total{reason="requests_in_progress"}`) and sets the gauge. Default none. */
  metrics?: Metrics;
  /** Paths never shed. Default NEVER_SHED_PATHS. */
  exempt?: readonly string[];
}

export function limitRequestsInProgress({
  max = DEFAULT_MAX_REQUESTS_IN_PROGRESS,
  metrics,
  exempt = NEVER_SHED_PATHS,
}: RequestsInProgressOptions = {}): MiddlewareHandler {
  const limit = Math.max(1, max);
  const neverShed = new Set(exempt);
  let inProgress = 0;
  return async (c, next) => {
    if (neverShed.has(c.req.path)) return next();
    if (inProgress >= limit) {
      metrics?.shedRequests.inc({ reason: 'requests_in_progress' });
      throw new HostBusyError(inProgress);
    }
    inProgress += 1;
    metrics?.requestsInProgress.set(inProgress);
    try {
      await next();
    } finally {
      inProgress -= 1;
      metrics?.requestsInProgress.set(inProgress);
    }
  };
}

/**
 * Each API key's share of the requests in progress on this host (issue 17 §1): past `max` of its
 * own, a key's next request is refused with 503 `overloaded` before its body is read. Without it one
 * tenant holding 128 slow uploads locked every other tenant out of the host. Registered after the
 * key gate (it counts by verified key); requests without a key (the open routes) pass, and so do
 * the paths never shed (an operator scrapes /metrics with the key that may be busy).
 */
export function limitRequestsPerKey({
  max = DEFAULT_MAX_REQUESTS_IN_PROGRESS / 2,
  metrics,
  exempt = NEVER_SHED_PATHS,
}: RequestsInProgressOptions = {}): MiddlewareHandler {
  const share = Math.max(1, Math.floor(max));
  const neverShed = new Set(exempt);
  const inProgress = new Map<string, number>();
  return async (c, next) => {
    const keyId = c.get('principal')?.keyId;
    if (keyId === undefined || neverShed.has(c.req.path)) return next();
    const held = inProgress.get(keyId) ?? 0;
    if (held >= share) {
      metrics?.shedRequests.inc({ reason: 'key_share' });
      throw new KeyBusyError(share);
    }
    inProgress.set(keyId, held + 1);
    try {
      await next();
    } finally {
      const left = (inProgress.get(keyId) ?? 1) - 1;
      if (left === 0) inProgress.delete(keyId);
      else inProgress.set(keyId, left);
    }
  };
}
