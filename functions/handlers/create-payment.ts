/**
 * POST /payments: validate, then commit exactly once by payment id.
 *   201 first commit · 200 + `Idempotent-Replayed: true` same id and content · 409 other content.
 *   403 when the caller's API key does not act for the payer account.
 * The body is read, and its size limit (413) enforced, by functions/middleware/request-body.ts before this runs.
 */
import type { Context } from 'hono';
import { isoTimestamp } from '../../coordination/clock/clock';
import { ForbiddenError, InvalidRequestError } from '../../ledger/errors';
import {
  IDENTIFIER_PATTERN,
  type PaymentIntent,
  paymentRequestSchema,
  serializePayment,
} from '../../ledger/payment';
import { actsFor } from '../auth/api-key-record';
import type { FunctionDeps } from '../deps';
import { principal } from '../middleware/require-api-key';
import { tagPayment } from '../observability/logger';
import { jsonBody, parseOrThrow } from '../validation';

export function createPayment({ ledger, clock, hostId, metrics }: FunctionDeps) {
  return async (c: Context): Promise<Response> => {
    // The readBody middleware (functions/middleware/request-body.ts) has read the body, within its size limit.
    const intent = resolveIntent(jsonBody(c), c.req.header('idempotency-key'));
    // Checked before the ledger is asked anything, so a key learns nothing about other payers' ids.
    if (!actsFor(principal(c), intent.payer)) {
      throw new ForbiddenError(`this API key may not pay from account ${intent.payer}`);
    }
    const log = tagPayment(c, intent.id, intent.payer);
    metrics?.inflightCommits.inc();
    const outcome = await ledger
      .commit(intent, { host: hostId, committedAt: isoTimestamp(clock) })
      .finally(() => metrics?.inflightCommits.dec());
    log.info({ outcome: outcome.kind, sequence: outcome.payment.sequence }, 'payment');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (outcome.kind === 'replayed') headers['idempotent-replayed'] = 'true';
    return c.body(serializePayment(outcome.payment), outcome.kind === 'committed' ? 201 : 200, headers);
  };
}

/** Validates the body and settles the payment id from `id` and the `Idempotency-Key` header. */
function resolveIntent(body: unknown, idempotencyKey: string | undefined): PaymentIntent {
  // zod's record drops a `__proto__` key (it would set the prototype): refused here, or the entry
  // would vanish from the stored payment while the request was answered 201. Found by the sweep.
  const metadata = (body as { metadata?: unknown } | null)?.metadata;
  if (typeof metadata === 'object' && metadata !== null && Object.hasOwn(metadata, '__proto__')) {
    throw new InvalidRequestError('invalid payment: metadata.__proto__', [
      { field: 'metadata.__proto__', message: 'metadata key __proto__ is reserved' },
    ]);
  }
  const request = parseOrThrow(paymentRequestSchema, body, 'payment');
  if (idempotencyKey !== undefined && !IDENTIFIER_PATTERN.test(idempotencyKey)) {
    throw new InvalidRequestError('invalid Idempotency-Key header', [
      { field: 'Idempotency-Key', message: 'must be 1 to 128 characters from [A-Za-z0-9._:-]' },
    ]);
  }
  if (request.id !== undefined && idempotencyKey !== undefined && request.id !== idempotencyKey) {
    throw new InvalidRequestError('id and Idempotency-Key differ', [
      { field: 'id', message: 'must equal the Idempotency-Key header when both are given' },
    ]);
  }
  const id = request.id ?? idempotencyKey;
  if (id === undefined) {
    throw new InvalidRequestError('a payment id is required', [
      { field: 'id', message: 'give `id` in the body or an Idempotency-Key header' },
    ]);
  }
  return { ...request, id };
}
