/** GET /payments/:id: one payment, from any host, read linearizably; 404 when absent or not the caller's. */
import type { Context } from 'hono';
import { PaymentNotFoundError } from '../ledger/errors';
import { serializePayment } from '../ledger/payment';
import { mayRead } from './auth/api-key-record';
import { principal } from './auth/require-api-key';
import type { FunctionDeps } from './deps';
import { tagPayment } from './logger';
import { paymentIdParam } from './query-schemas';
import { parseOrThrow } from './validation';

export function getPayment({ ledger }: FunctionDeps) {
  return async (c: Context): Promise<Response> => {
    const id = parseOrThrow(paymentIdParam, c.req.param('id'), 'payment id');
    tagPayment(c, id);
    const payment = await ledger.get(id);
    // Another tenant's payment is answered exactly like a missing one: the id's existence stays private.
    if (!payment || !mayRead(principal(c), payment)) throw new PaymentNotFoundError(id);
    return c.body(serializePayment(payment), 200, { 'content-type': 'application/json' });
  };
}
