/**
 * The clock endpoints hosts use to synchronize (coordination/clock-sync/clock-sync.ts):
 *   GET  /time         this host's clock readings (what Cristian's and Berkeley's polls read)
 *   POST /time/adjust  a Berkeley adjustment from the time master; 409 stale_master if the
 *                      sender is not the leader this host knows
 * The `X-HLC` header and the payment clock guard are middleware (functions/middleware/hlc-headers.ts,
 * functions/middleware/clock-guard.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import type { TimeReading } from '../../coordination/clock-sync/time-peer';
import type { ClockDeps } from '../deps';
import { validated } from '../validation';

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
    // Read by readBody and validated against adjustmentSchema by the route table (functions/routes.ts).
    const adjustment = validated<z.output<typeof adjustmentSchema>>(c, 'json');
    if (!sync) return c.json({ applied: false, reason: 'this host does not synchronize its clock' }, 200);
    sync.handleAdjustment(adjustment);
    return c.json({ applied: true });
  };
}
