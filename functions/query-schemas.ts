/**
 * Schemas for path and query parameters, and the opaque history cursor. Dates are ISO-8601,
 * parsed with dayjs in UTC (a date without an offset means UTC), and normalised to the
 * `toISOString` form that `committedAt` uses, so they compare as strings.
 */
import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import { z } from 'zod';
import { MAX_HISTORY_LIMIT } from '../ledger/ledger';
import { IDENTIFIER_PATTERN } from '../ledger/payment';

dayjs.extend(utc);

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** dayjs rolls 2026-02-30 over into March; a date whose fields do not survive a round trip is invalid. */
function fieldsInRange(value: string): boolean {
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = ISO_8601.exec(value) ?? [];
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  return (
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    date.getUTCHours() === Number(h) &&
    date.getUTCMinutes() === Number(mi) &&
    date.getUTCSeconds() === Number(s)
  );
}

export const paymentIdParam = z
  .string()
  .regex(IDENTIFIER_PATTERN, 'id must be 1 to 128 characters from [A-Za-z0-9._:-]');

/** An account name in a query parameter: the same alphabet as in a payment. */
const accountParam = (field: string) =>
  z
    .string({ error: `${field} is required` })
    .regex(IDENTIFIER_PATTERN, `${field} must be 1 to 128 characters from [A-Za-z0-9._:-]`);

/**
 * GET /payments/:id?payer=: a payment is identified by its payer and id; without the payer the
 * id is looked up across payers (functions/handlers/get-payment.ts).
 */
export const paymentLookupQuerySchema = z.object({ payer: accountParam('payer').optional() });

export const isoDate = (field: string) =>
  z
    .string()
    .regex(ISO_8601, `${field} must be an ISO-8601 date or date-time`)
    .transform((value, ctx) => {
      const parsed = dayjs.utc(value);
      if (!fieldsInRange(value) || !parsed.isValid() || parsed.year() < 1970 || parsed.year() > 9999) {
        ctx.addIssue({ code: 'custom', message: `${field} is not a valid date` });
        return z.NEVER;
      }
      return parsed.toISOString();
    });

/** Cursor: base64url JSON `{ "after": <sequence> }`; clients must treat it as opaque. */
export function encodeCursor(afterSequence: number): string {
  return Buffer.from(JSON.stringify({ after: afterSequence })).toString('base64url');
}

const cursorSchema = z.string().transform((value, ctx) => {
  try {
    const decoded = JSON.parse(Buffer.from(value, 'base64url').toString()) as { after?: unknown };
    if (typeof decoded.after === 'number' && Number.isSafeInteger(decoded.after) && decoded.after >= 0) {
      return decoded.after;
    }
  } catch {
    // fall through to the issue below
  }
  ctx.addIssue({ code: 'custom', message: 'cursor is not one this API returned' });
  return z.NEVER;
});

export const historyQuerySchema = z
  .object({
    account: accountParam('account'),
    from: isoDate('from').optional(),
    to: isoDate('to').optional(),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`)
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_HISTORY_LIMIT, `limit must be at most ${MAX_HISTORY_LIMIT}`))
      .optional(),
    cursor: cursorSchema.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });
