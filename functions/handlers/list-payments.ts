/**
 * GET /payments?account=&from=&to=&limit=&cursor=: an account's payments (as payer or payee) in
 * commit order, optionally within [from, to) on committedAt, a page at a time: at most `limit`
 * payments and about HISTORY_PAGE_BYTES (1 MiB) of them, so a shorter page with a `nextCursor`
 * is normal (ledger/ledger.ts). 403 unless the
 * caller's key acts for the account or is an admin's. With a host clock, the page's latest HLC is
 * received (HLC's receive rule), so whatever this host does next sorts after what it read.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { latestHlc } from '../../coordination/clock/hlc';
import { serializePayment } from '../../ledger/payment';
import { actsFor, hasScope } from '../auth/api-key-record';
import type { FunctionDeps } from '../deps';
import { ForbiddenError } from '../http-errors';
import { principal } from '../middleware/require-api-key';
import { encodeCursor, type historyQuerySchema } from '../query-schemas';
import { validated } from '../validation';

export const DEFAULT_HISTORY_LIMIT = 100;

export function listPayments({ ledger, clocks }: FunctionDeps) {
  return async (c: Context): Promise<Response> => {
    // Validated by the route table (functions/routes.ts).
    const query = validated<z.output<typeof historyQuerySchema>>(c, 'query');
    const caller = principal(c);
    if (!hasScope(caller, 'admin') && !actsFor(caller, query.account)) {
      throw new ForbiddenError(`this API key may not read the history of account ${query.account}`);
    }
    const page = await ledger.history(
      {
        account: query.account,
        from: query.from,
        to: query.to,
        limit: query.limit ?? DEFAULT_HISTORY_LIMIT,
        afterSequence: query.cursor,
      },
      // An abandoned request stops its reads (issue 17 §4).
      { signal: c.req.raw.signal },
    );
    const latest = latestHlc(page.payments.map((p) => p.hlc));
    if (latest) clocks?.hlc.receive(latest);
    // Rendered through serializePayment so each payment has the same bytes as from GET /payments/:id.
    const nextCursor =
      page.continueAfter === undefined ? null : JSON.stringify(encodeCursor(page.continueAfter));
    const body = `{"payments":[${page.payments.map(serializePayment).join(',')}],"nextCursor":${nextCursor}}`;
    return c.body(body, 200, { 'content-type': 'application/json' });
  };
}
