/**
 * GET /events?from=&limit=: the merged cluster event log in HLC order, from any host.
 *   from   the `next` of an earlier page, an HLC timestamp, or an ISO-8601 time (default: the start)
 *   limit  1..1000, default 100
 * Answers `{ events, next, watermark, heldBack, staleHosts }` (coordination/events/event-query.ts).
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { hlcAt } from '../../coordination/clock/hlc';
import { readMergedEvents } from '../../coordination/events/event-query';
import type { ClockDeps } from '../deps';
import { isoDate } from '../query-schemas';
import { validated } from '../validation';

const CURSOR = /^\d{15}\.\d{5}\/[A-Za-z0-9._:-]{1,64}\/\d{12}$/;
const HLC = /^\d{15}\.\d{5}$/;

export const eventsQuerySchema = z.object({
  from: z
    .union([
      z
        .string()
        .regex(CURSOR)
        .transform((cursor) => ({ cursor })),
      z
        .string()
        .regex(HLC)
        .transform((hlc) => ({ hlc })),
      isoDate('from').transform((iso) => ({ hlc: hlcAt(Date.parse(iso)) })),
    ])
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'limit must be an integer from 1 to 1000')
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000, 'limit must be at most 1000'))
    .optional(),
});

export const DEFAULT_EVENTS_LIMIT = 100;

export function listEvents({ eventStore, hostClock, maxEventLatenessMs = 5000 }: ClockDeps) {
  return async (c: Context) => {
    // Validated by the route table (functions/routes.ts).
    const query = validated<z.output<typeof eventsQuerySchema>>(c, 'query');
    if (!eventStore) return c.json({ events: [], next: null, watermark: null, heldBack: 0, staleHosts: [] });
    const page = await readMergedEvents(eventStore, {
      from: query.from,
      limit: query.limit ?? DEFAULT_EVENTS_LIMIT,
      nowMs: hostClock.now(),
      maxLatenessMs: maxEventLatenessMs,
    });
    return c.json(page);
  };
}
