/**
 * The single place where errors become HTTP responses: `{"error":{"code","message","details?"}}`
 * with the status from ledger/errors.ts. Anything unrecognised is a 500 and is logged, because
 * it is our bug: no client mistake may reach that branch.
 *
 * Also answers requests that Node's HTTP parser rejects before Hono ever sees them (garbage
 * request lines, broken chunked encoding, oversized headers) with the same JSON error shape,
 * instead of Node's default bodiless `400 Bad Request`. Found by the bad-input sweep.
 */
import type { Socket } from 'node:net';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ERROR_STATUS_BY_CODE, type ErrorCode, PaymentError, UnauthorizedError } from '../ledger/errors';
import { requestLog } from './observability/logger';

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

const REASON: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

/**
 * For `server.on('clientError', ...)`: writes a JSON 400 (or 431) and closes the connection.
 * When a response has already gone out on this connection (a 401 answered before the body was
 * read, whose unread bytes then fail to parse) it only closes: a second response would be read
 * by the client as part of the first. Node's own default handler makes the same check.
 */
export function answerMalformedRequest(error: Error & { code?: string }, socket: Socket): void {
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'invalid_request';
  const status = ERROR_STATUS_BY_CODE[code];
  const body = JSON.stringify(errorBody(code, `malformed HTTP request (${error.code ?? 'parse error'})`));
  socket.end(
    `HTTP/1.1 ${status} ${REASON[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
