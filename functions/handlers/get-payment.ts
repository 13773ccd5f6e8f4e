/**
 * GET /payments/:id[?payer=]: one payment, from any host, read linearizably.
 *
 * A payment is identified by its payer and id (two payers may use one id). With `?payer=` the
 * answer is that payment or 404. Without it the id is looked up across payers: none is a 404,
 * one is that payment, and several is a 409 `ambiguous_payment_id` listing the payers, so the
 * caller repeats with `?payer=`. Payments the caller's API key may not read count as absent in
 * every case, word for word like an unknown id, so the answer reveals nothing about them. A key
 * that acts for some accounts looks the id up among their payments only (the ledger filters by
 * them before its cap), so other payers of the id cannot hide the caller's own (issue 17 §3).
 *
 * The request's signal goes with the read: a request abandoned by its client stops its etcd
 * calls and PostgreSQL queries (issue 17 §4).
 *
 * With a host clock the read applies HLC's receive rule to what it found and records a
 * `payment.queried` event, so the event log orders a query after the commit it saw.
 */
import type { Context } from 'hono';
import { latestHlc } from '../../coordination/clock/hlc';
import { AmbiguousPaymentIdError, PaymentNotFoundError } from '../../ledger/errors';
import { type StoredPayment, serializePayment } from '../../ledger/payment';
import { mayRead, readableAccounts } from '../auth/api-key-record';
import type { FunctionDeps } from '../deps';
import { principal } from '../middleware/require-api-key';
import { tagPayment } from '../observability/logger';
import { validated } from '../validation';

export function getPayment({ ledger, clocks }: FunctionDeps) {
  return async (c: Context): Promise<Response> => {
    // Validated by the route table (functions/routes.ts): paymentIdParam, paymentLookupQuerySchema.
    const { id } = validated<{ id: string }>(c, 'param');
    const { payer } = validated<{ payer?: string }>(c, 'query');
    tagPayment(c, id, payer);
    const caller = principal(c);
    const visible = (p: StoredPayment) => mayRead(caller, p);
    const signal = c.req.raw.signal;
    let payment: StoredPayment | undefined;
    if (payer !== undefined) {
      payment = await ledger.get(id, payer, { signal });
      if (clocks) {
        const stamp = clocks.hlc.receive(payment?.hlc);
        const details = { id, payer, found: payment !== undefined, paymentHlc: payment?.hlc ?? '' };
        clocks.record?.('payment.queried', details, stamp);
      }
      if (payment && !visible(payment)) payment = undefined;
    } else {
      const all = await ledger.findById(id, { accounts: readableAccounts(caller), signal });
      if (clocks) {
        // Receiving the latest HLC once covers them all (HLC's receive rule).
        const latest = latestHlc(all.map((p) => p.hlc));
        const stamp = clocks.hlc.receive(latest);
        const details = { id, found: all.length > 0, count: all.length, paymentHlc: latest ?? '' };
        clocks.record?.('payment.queried', details, stamp);
      }
      const found = all.filter(visible);
      if (found.length > 1)
        throw new AmbiguousPaymentIdError(
          id,
          found.map((p) => p.payer),
        );
      payment = found[0];
    }
    if (!payment) throw new PaymentNotFoundError(id, payer);
    return c.body(serializePayment(payment), 200, { 'content-type': 'application/json' });
  };
}
