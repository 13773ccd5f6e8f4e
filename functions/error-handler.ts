/**
 * The single place where errors become HTTP responses: `{"error":{"code","message","details?"}}`
 * with the status from ledger/errors.ts. Anything unrecognised is a 500 and is logged, because
 * it is our bug: no client mistake may reach that branch.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { type ErrorCode, PaymentError, UnauthorizedError } from '../ledger/errors';
import { requestLog } from './logger';

const CODE_BY_HTTP_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function handleError(error: Error, c: Context): Response {
  if (error instanceof PaymentError) {
    // Every error that may be retried later says when (QuorumUnavailable, ClockOffset, Overloaded,
    // RateLimited); an unauthorized one names the scheme, as RFC 9110 asks of a 401.
    if ('retryAfterSeconds' in error) c.header('Retry-After', String(error.retryAfterSeconds));
    if (error instanceof UnauthorizedError) c.header('WWW-Authenticate', 'Bearer realm="payments"');
    return c.json(errorBody(error.code, error.message, error.details), error.status);
  }
  if (error instanceof HTTPException && CODE_BY_HTTP_STATUS[error.status]) {
    return c.json(
      errorBody(CODE_BY_HTTP_STATUS[error.status]!, error.message || 'request rejected'),
      error.status,
    );
  }
  requestLog(c).error({ path: c.req.path, err: error }, 'unhandled error');
  return c.json(errorBody('internal', 'internal error'), 500);
}
