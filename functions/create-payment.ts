/**
 * POST /payments: validate, then commit exactly once by payment id.
 *   201 first commit · 200 + `Idempotent-Replayed: true` same id and content · 409 other content.
 * The body is read, and its size limit (413) enforced, by functions/request-body.ts before this runs.
 */
import type { Context } from 'hono';
import { isoTimestamp } from '../coordination/clock';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../ledger/errors';
import {
  IDENTIFIER_PATTERN,
  type PaymentIntent,
  paymentRequestSchema,
  serializePayment,
} from '../ledger/payment';
import type { FunctionDeps } from './deps';
import { tagPayment } from './logger';
import { parseOrThrow } from './validation';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function createPayment({ ledger, clock, hostId, metrics }: FunctionDeps) {
  return async (c: Context): Promise<Response> => {
    const contentType = c.req.header('content-type');
    if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
    // The readBody middleware (functions/request-body.ts) has read the body, within its size limit.
    const intent = resolveIntent(parseJson(c.get('bodyText')), c.req.header('idempotency-key'));
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidRequestError('request body is not valid JSON', [{ field: '', message: String(cause) }], {
      cause,
    });
  }
}

/** Validates the body and settles the payment id from `id` and the `Idempotency-Key` header. */
function resolveIntent(body: unknown, idempotencyKey: string | undefined): PaymentIntent {
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
