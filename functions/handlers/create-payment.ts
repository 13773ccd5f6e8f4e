/**
 * POST /payments: validate, then commit exactly once by payment id.
 *   201 first commit · 200 + `Idempotent-Replayed: true` same id and content · 409 other content.
 *   403 when the caller's API key does not act for the payer account.
 * The body is read, and its size limit (413) enforced, by functions/middleware/request-body.ts before this runs.
 *
 * With a host clock (deps.clocks) the commit is stamped with an HLC and recorded in the cluster
 * event log: received, then committed, replayed or rejected. A stored payment is a message between
 * hosts, so a replay applies HLC's receive rule to the stored `hlc` before its event is recorded:
 * "committed on A" sorts before "replayed on B" whatever the clock skew.
 */
import type { Context } from 'hono';
import { isoTimestamp } from '../../coordination/clock/clock';
import { InvalidRequestError, PaymentError } from '../../ledger/errors';
import type { CommitContext, CommitOutcome } from '../../ledger/ledger';
import {
  IDENTIFIER_PATTERN,
  type PaymentIntent,
  type PaymentRequest,
  serializePayment,
} from '../../ledger/payment';
import { actsFor } from '../auth/api-key-record';
import type { FunctionDeps } from '../deps';
import { ForbiddenError } from '../http-errors';
import { principal } from '../middleware/require-api-key';
import { logRequest, tagPayment } from '../observability/logger';
import { validated } from '../validation';

export function createPayment({ ledger, clock, hostId, metrics, clocks }: FunctionDeps) {
  const record = clocks?.record;
  return async (c: Context): Promise<Response> => {
    // Read by readBody, within its size limit, and validated against paymentRequestSchema by the
    // route table (functions/routes.ts) before this runs.
    const intent = resolveIntent(validated<PaymentRequest>(c, 'json'), c.req.header('idempotency-key'));
    // Checked before the ledger is asked anything, so a key learns nothing about other payers' ids.
    if (!actsFor(principal(c), intent.payer)) {
      throw new ForbiddenError(`this API key may not pay from account ${intent.payer}`);
    }
    tagPayment(c, intent.id, intent.payer);
    record?.('payment.received', { id: intent.id });
    metrics?.inflightCommits.inc();
    let outcome: CommitOutcome;
    try {
      const context: CommitContext = { host: hostId, committedAt: isoTimestamp(clock) };
      if (clocks) context.hlc = clocks.hlc.tick();
      outcome = await ledger.commit(intent, context);
    } catch (error) {
      record?.('payment.rejected', {
        id: intent.id,
        code: error instanceof PaymentError ? error.code : 'internal',
      });
      throw error;
    } finally {
      metrics?.inflightCommits.dec();
    }
    const { payment } = outcome;
    if (clocks) {
      const stamp = clocks.hlc.receive(payment.hlc);
      const details = { id: payment.id, sequence: payment.sequence, committedBy: payment.host };
      const type = outcome.kind === 'committed' ? 'payment.committed' : 'payment.replayed';
      record?.(type, { ...details, paymentHlc: payment.hlc ?? '' }, stamp);
    }
    logRequest(c, 'info', { outcome: outcome.kind, sequence: payment.sequence }, 'payment');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (outcome.kind === 'replayed') headers['idempotent-replayed'] = 'true';
    return c.body(serializePayment(payment), outcome.kind === 'committed' ? 201 : 200, headers);
  };
}

/** Settles the payment id from the validated body's `id` and the `Idempotency-Key` header. */
function resolveIntent(request: PaymentRequest, idempotencyKey: string | undefined): PaymentIntent {
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
