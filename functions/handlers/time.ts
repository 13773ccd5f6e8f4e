/**
 * The clock endpoints hosts use to synchronize (coordination/clock-sync/clock-sync.ts):
 *   GET  /time         this host's clock readings (what Cristian's and Berkeley's polls read)
 *   POST /time/adjust  a Berkeley adjustment from the time master; 403 if the key is not the
 *                      claimed master's own host key (or an admin's); 409 stale_master if the
 *                      master is not the leader this host knows, or its fencing token is not that
 *                      leader's current one; 400 for any field out of bounds
 * The `X-HLC` header and the payment clock guard are middleware (functions/middleware/hlc-headers.ts,
 * functions/middleware/clock-guard.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import type { TimeReading } from '../../coordination/clock-sync/time-peer';
import { hasScope } from '../auth/api-key-record';
import { hostKeyId } from '../auth/host-key';
import type { ClockDeps } from '../deps';
import { ForbiddenError } from '../http-errors';
import { principal } from '../middleware/require-api-key';
import { validated } from '../validation';

/**
 * Every field of an adjustment is bounded (issue 17 §7: `errorMs: 1e300` and an hour's `deltaMs`
 * were accepted, and the host refused payments and jumped). A Berkeley correction is at most the
 * spread of the hosts' clocks; beyond a minute an operator must fix the machine's clock. The error
 * of a reading is half a round trip, and a peer's requests time out after 500 ms.
 */
export const adjustmentSchema = z.strictObject({
  master: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'master must be a host id'),
  deltaMs: z.number().finite().min(-60_000).max(60_000),
  errorMs: z.number().finite().nonnegative().max(1000),
  round: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  fencingToken: z
    .string()
    .regex(/^\d{1,20}$/, "fencingToken must be the master's campaign revision (1 to 20 digits)"),
  referenced: z.boolean().optional(),
});

export function getTime({ hostClock, sync, hostId }: ClockDeps & { hostId: string }) {
  return (c: Context) => {
    const bound = hostClock.errorBoundMs();
    const status = sync?.timeSource();
    const reading: TimeReading = {
      host: hostId,
      time: hostClock.targetNow(),
      corrected: hostClock.now(),
      raw: hostClock.raw(),
      errorBoundMs: Number.isFinite(bound) ? bound : null,
      estimateErrorMs: hostClock.synced ? hostClock.estimateErrorMs() : null,
      synced: hostClock.synced,
      source: status?.source ?? null,
      referenceErrorBoundMs: status?.referenceErrorBoundMs ?? null,
    };
    return c.json(reading);
  };
}

export function adjustTime({ sync }: ClockDeps) {
  return async (c: Context) => {
    // Read by readBody and validated against adjustmentSchema by the route table (functions/routes.ts).
    const adjustment = validated<z.output<typeof adjustmentSchema>>(c, 'json');
    // `master` is bound to the sender: a host's key (clock scope only) names that host
    // (functions/auth/host-key.ts), so a host can send adjustments only as itself, and ClockSync
    // then accepts them only from the elected leader with its current fencing token. Otherwise
    // any host could claim to be the leader. An operator's admin key may act for the master.
    const caller = principal(c);
    if (!hasScope(caller, 'admin') && caller.keyId !== hostKeyId(adjustment.master)) {
      throw new ForbiddenError(
        `this API key is not host ${adjustment.master}'s: it may not send its adjustments`,
      );
    }
    if (!sync) return c.json({ applied: false, reason: 'this host does not synchronize its clock' }, 200);
    sync.handleAdjustment(adjustment);
    return c.json({ applied: true });
  };
}
