/**
 * Refuses new payments while this host's clock may be off by more than the maximum offset, so no
 * payment is stamped with a time the cluster would not accept (503 clock_offset, retryable).
 */
import type { MiddlewareHandler } from 'hono';
import { ClockOffsetError } from '../../ledger/errors';
import type { ClockDeps } from '../deps';

/** Refuses new payments while this host's clock may be further than the maximum offset from the cluster. */
export function clockGuard({ sync }: ClockDeps): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'POST' && sync) {
      const readiness = sync.readiness();
      if (!readiness.ok) throw new ClockOffsetError(readiness.reason ?? 'out of bounds');
    }
    await next();
  };
}
