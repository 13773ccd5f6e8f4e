/**
 * The clock endpoints hosts use to synchronize (coordination/clock-sync.ts):
 *   GET  /time         this host's clock readings (what Cristian's and Berkeley's polls read)
 *   POST /time/adjust  a Berkeley adjustment from the time master; 409 stale_master if the
 *                      sender is not the leader this host knows
 * and the middleware that carries HLC timestamps between hosts and clients in the `X-HLC`
 * header (HLC receive rule on the way in, a fresh timestamp on the way out), plus the guard that
 * refuses payments while the clock is out of bounds.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { HLC_HEADER } from '../coordination/hlc';
import type { TimeReading } from '../coordination/time-peer';
import { ClockOffsetError } from '../ledger/errors';
import type { ClockDeps } from './deps';
import { parseOrThrow } from './validation';

export const adjustmentSchema = z.strictObject({
  master: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'master must be a host id'),
  deltaMs: z.number().finite().min(-86_400_000).max(86_400_000),
  errorMs: z.number().finite().nonnegative(),
  round: z.number().int().nonnegative(),
});

export function getTime({ hostClock, hostId }: ClockDeps & { hostId: string }) {
  return (c: Context) => {
    const bound = hostClock.errorBoundMs();
    const reading: TimeReading = {
      host: hostId,
      time: hostClock.targetNow(),
      corrected: hostClock.now(),
      raw: hostClock.raw(),
      errorBoundMs: Number.isFinite(bound) ? bound : null,
      estimateErrorMs: hostClock.synced ? hostClock.estimateErrorMs() : null,
      synced: hostClock.synced,
    };
    return c.json(reading);
  };
}

export function adjustTime({ sync }: ClockDeps) {
  return async (c: Context) => {
    // Read by the readBody middleware (functions/request-body.ts), like every other body.
    let body: unknown;
    try {
      body = JSON.parse(c.get('bodyText'));
    } catch {
      body = undefined;
    }
    const adjustment = parseOrThrow(adjustmentSchema, body, 'clock adjustment');
    if (!sync) return c.json({ applied: false, reason: 'this host does not synchronize its clock' }, 200);
    sync.handleAdjustment(adjustment);
    return c.json({ applied: true });
  };
}

/** HLC receive rule on every request that carries `X-HLC`; every response carries a fresh timestamp. */
export function hlcHeaders({ hlc }: ClockDeps): MiddlewareHandler {
  return async (c, next) => {
    const remote = c.req.header(HLC_HEADER);
    if (remote !== undefined) hlc.receive(remote);
    await next();
    c.res.headers.set(HLC_HEADER, hlc.tick());
  };
}

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
