/**
 * The single place where errors become HTTP responses:
 * `{"error":{"code","message","retryable","details?"}}`, with the status from the one table below.
 * The domain's codes and errors are in ledger/errors.ts; the errors only HTTP has (authentication,
 * scope, body size and type, rate, headers) are declared here. `retryable` is the error's
 * `Retryable` mark: PaymentsClient (client/payments-client.ts) retries exactly those, with the
 * same payment id, on another host. Anything unrecognised is a 500 and is logged, because it is
 * our bug: no client mistake may reach that branch.
 *
 * Also answers requests that Node's HTTP parser rejects before Hono ever sees them (garbage
 * request lines, broken chunked encoding, oversized headers) with the same JSON error shape,
 * instead of Node's default bodiless `400 Bad Request`. Found by the bad-input sweep.
 */
import type { Socket } from 'node:net';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { type ErrorCode, isRetryable, PaymentError, Retryable } from '../ledger/errors';
import { requestLog } from './observability/logger';

/** The codes only the HTTP layer answers with. */
export type HttpErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'headers_too_large'
  | 'request_timeout';

/** Every code the HTTP API can return, with its status: the domain's and the HTTP layer's. */
export const ERROR_STATUS_BY_CODE = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  idempotency_conflict: 409,
  ambiguous_payment_id: 409,
  stale_master: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  result_too_large: 422,
  unavailable: 503,
  overloaded: 503,
  storage_full: 503,
  archive_unavailable: 503,
  internal: 500,
} as const satisfies Record<ErrorCode | HttpErrorCode, number>;

export type ApiErrorCode = keyof typeof ERROR_STATUS_BY_CODE;

/** Base class of the errors only the HTTP layer throws. */
export class HttpError extends PaymentError<HttpErrorCode> {}

/** Thrown when the request body exceeds the size limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super('payload_too_large', `request body exceeds ${limitBytes} bytes`);
  }
}

/** Thrown when a body is sent with a content type other than JSON. */
export class UnsupportedMediaTypeError extends HttpError {
  constructor(contentType: string | undefined) {
    super('unsupported_media_type', `content type must be application/json, got ${contentType ?? 'none'}`);
  }
}

/**
 * Thrown when a request carries no API key, a malformed one, or one that is unknown or revoked.
 * The message never says which: a caller probing keys learns nothing from it.
 */
export class UnauthorizedError extends HttpError {
  constructor(message = 'a valid API key is required: Authorization: Bearer <key>') {
    super('unauthorized', message);
  }
}

/** Thrown when a valid API key asks for something outside its scope (another account, an admin route). */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/**
 * Thrown when an API key sends more requests to this host than its rate allows. Not `Retryable`
 * by another host at once (that would only spread the excess): wait `Retry-After` seconds.
 */
export class RateLimitedError extends HttpError {
  readonly retryAfterSeconds: number;

  constructor(limitPerSecond: number, retryAfterSeconds: number, what = 'API key rate limit') {
    super('rate_limited', `${what} of ${limitPerSecond} requests per second exceeded`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Thrown when a host already has as many requests in progress as it allows
 * (functions/middleware/requests-in-progress.ts): the new one is refused before its body is read, so nothing
 * was written. Retry after Retry-After, on any host.
 */
export class HostBusyError extends PaymentError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds = 1;

  constructor(inProgress: number) {
    super('overloaded', `host overloaded: ${inProgress} requests already in progress; retry shortly`);
  }
}

/**
 * Thrown when one API key already has its share of this host's requests in progress
 * (functions/middleware/requests-in-progress.ts): refused before its body is read, so that no key
 * can hold every slot. Nothing was written; retry after Retry-After, on any host.
 */
export class KeyBusyError extends PaymentError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds = 1;

  constructor(share: number) {
    super(
      'overloaded',
      `this API key already has ${share} requests in progress on this host, its share; retry shortly`,
    );
  }
}

/**
 * Thrown when a request body has not fully arrived within the host's body deadline
 * (functions/middleware/request-body.ts): a slow client does not keep a slot for long. Nothing was
 * written; send the request again.
 */
export class RequestTimeoutError extends HttpError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds = 1;

  constructor(timeoutMs: number) {
    super('request_timeout', `request body not received within ${timeoutMs} ms`);
  }
}

const CODE_BY_HTTP_STATUS: Record<number, ApiErrorCode> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

/** The error body; `retryable` defaults to false, so only a marked error invites a retry. */
export function errorBody(
  code: ApiErrorCode,
  message: string,
  { retryable = false, details }: { retryable?: boolean; details?: unknown } = {},
) {
  const error = { code, message, retryable };
  return { error: details === undefined ? error : { ...error, details } };
}

export function handleError(error: Error, c: Context): Response {
  if (error instanceof PaymentError) {
    const code = error.code as ApiErrorCode;
    // Every error that may be retried later says when (QuorumUnavailable, ClockOffset, Overloaded,
    // RateLimited); an unauthorized one names the scheme, as RFC 9110 asks of a 401.
    if ('retryAfterSeconds' in error) c.header('Retry-After', String(error.retryAfterSeconds));
    if (error instanceof UnauthorizedError) c.header('WWW-Authenticate', 'Bearer realm="payments"');
    const status = ERROR_STATUS_BY_CODE[code];
    // A 5xx says only a stable message; what etcd, gRPC or PostgreSQL said is logged (issue 17 §7).
    if (status >= 500 && error.cause !== undefined)
      requestLog(c).warn({ path: c.req.path, code, err: error.cause }, error.message);
    const body = errorBody(code, error.message, { retryable: isRetryable(error), details: error.details });
    return c.json(body, status);
  }
  if (error instanceof HTTPException && CODE_BY_HTTP_STATUS[error.status]) {
    return c.json(
      // Hono's own rejections (body limits, not found, a timeout's 503) carry no mark: only a 503 may be retried.
      errorBody(CODE_BY_HTTP_STATUS[error.status]!, error.message || 'request rejected', {
        retryable: error.status === 503,
      }),
      error.status,
    );
  }
  requestLog(c).error({ path: c.req.path, err: error }, 'unhandled error');
  return c.json(errorBody('internal', 'internal error'), 500);
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** Node's parser and deadline errors, by code, and what they are answered with; others are 400. */
const CLIENT_ERROR_CODES: Record<string, ApiErrorCode> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  // Headers (or the whole request) not received within the server's deadlines (functions/server-timeouts.ts).
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
};

/**
 * For `server.on('clientError', ...)`: writes a JSON 400 (431 for oversized headers, 408 past the
 * server's deadlines of functions/server-timeouts.ts) and closes the connection.
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
  const code = CLIENT_ERROR_CODES[error.code ?? ''] ?? 'invalid_request';
  const status = ERROR_STATUS_BY_CODE[code];
  const body = JSON.stringify(
    code === 'request_timeout'
      ? errorBody(code, 'request not received within the host deadline', { retryable: true })
      : errorBody(code, `malformed HTTP request (${error.code ?? 'parse error'})`),
  );
  socket.end(
    `HTTP/1.1 ${status} ${REASON[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
