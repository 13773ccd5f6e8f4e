/**
 * The one closed table of error codes the payment system answers with, and the typed errors
 * that carry them. Handlers and the ledger throw; a single `app.onError` (functions/http-errors.ts)
 * turns any of these into `{"error":{"code","message","details?"}}` with the status below.
 *
 * Retryable errors carry the `Retryable` symbol, the way etcd3 marks `RecoverableError`: clients
 * and the failover logic decide to retry from that mark, never from a status code alone.
 */

/** Every code the HTTP API can return, with its status. Adding a code means adding it here. */
export const ERROR_STATUS_BY_CODE = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  idempotency_conflict: 409,
  ambiguous_payment_id: 409,
  stale_master: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  unavailable: 503,
  overloaded: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS_BY_CODE;
export type ErrorStatus = (typeof ERROR_STATUS_BY_CODE)[ErrorCode];

/** Marks an error whose operation may be retried unchanged (same payment id) on any host. */
export const Retryable = Symbol('Retryable');

export const isRetryable = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && Retryable in error;

/** One problem with one field of a request, as listed in `error.details`. */
export interface ErrorDetail {
  /** Dotted path of the offending field, e.g. `metadata.note`; empty for the body as a whole. */
  field: string;
  message: string;
}

/** Base class: an error the API knows how to answer with a stable code. */
export class PaymentError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetail[] } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }

  get status(): ErrorStatus {
    return ERROR_STATUS_BY_CODE[this.code];
  }
}

/** Thrown when a request is malformed or a field fails validation; nothing was written. */
export class InvalidRequestError extends PaymentError {
  constructor(message: string, details?: ErrorDetail[], options: { cause?: unknown } = {}) {
    super('invalid_request', message, { ...options, details });
  }
}

/**
 * Thrown when the payer already committed this payment id with different content; the stored
 * payment is unchanged. Decided within one payer: another payer's use of the id never causes it.
 */
export class IdempotencyConflictError extends PaymentError {
  constructor(id: string, payer: string) {
    super(
      'idempotency_conflict',
      `payment ${id} of payer ${payer} was already recorded with different content`,
    );
  }
}

/** Thrown when the requested payment does not exist (or, with a payer, not for that payer). */
export class PaymentNotFoundError extends PaymentError {
  constructor(id: string, payer?: string) {
    super(
      'not_found',
      payer === undefined ? `payment ${id} not found` : `payment ${id} of payer ${payer} not found`,
    );
  }
}

/**
 * Thrown by GET /payments/:id without `?payer=` when more than one payer used the id: the id
 * alone names no single payment. `details` lists the payers; the caller repeats with `?payer=`.
 */
export class AmbiguousPaymentIdError extends PaymentError {
  constructor(id: string, payers: string[]) {
    super('ambiguous_payment_id', `${payers.length} payers used payment id ${id}; pass ?payer= to pick one`, {
      details: payers.map((payer) => ({ field: 'payer', message: payer })),
    });
  }
}

/** Thrown when the request body exceeds the size limit. */
export class PayloadTooLargeError extends PaymentError {
  constructor(limitBytes: number) {
    super('payload_too_large', `request body exceeds ${limitBytes} bytes`);
  }
}

/** Thrown when a body is sent with a content type other than JSON. */
export class UnsupportedMediaTypeError extends PaymentError {
  constructor(contentType: string | undefined) {
    super('unsupported_media_type', `content type must be application/json, got ${contentType ?? 'none'}`);
  }
}

/**
 * Thrown when etcd cannot give a quorum answer within the deadline (members down, partitioned,
 * paused or unreachable). The outcome of a write is then unknown, so the client must retry with
 * the same payment id: the ledger deduplicates.
 */
export class QuorumUnavailableError extends PaymentError {
  readonly [Retryable] = true;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super('unavailable', message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/**
 * Thrown when a fenced write by a leader is refused because its campaign key no longer has the
 * create revision it was elected with: another host leads now (or none does). Never retried by
 * the deposed leader; it stops its duties instead.
 */
export class NotLeaderError extends PaymentError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('unavailable', message, options);
  }
}

/** Thrown when a clock adjustment comes from a host that is not the leader this host knows. */
export class StaleMasterError extends PaymentError {
  constructor(master: string, leader: string | undefined) {
    super('stale_master', `adjustment from ${master} refused: the time master is ${leader ?? 'unknown'}`);
  }
}

/**
 * Thrown while this host's clock may be further from the cluster's than the allowed maximum (or
 * is not synchronized yet): it refuses payments until it is back in bounds. Retry on another host.
 */
export class ClockOffsetError extends PaymentError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds = 1;

  constructor(reason: string) {
    super('unavailable', `host clock out of bounds: ${reason}`);
  }
}

/**
 * Thrown when a host has more payments waiting for etcd than it allows: it sheds the new one at
 * once rather than queue without bound. Nothing was written; retry after Retry-After, on any host.
 */
export class OverloadedError extends PaymentError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds = 1;

  constructor(queued: number) {
    super('overloaded', `host overloaded: ${queued} payments already waiting for etcd; retry shortly`);
  }
}

/**
 * Thrown when a request carries no API key, a malformed one, or one that is unknown or revoked.
 * The message never says which: a caller probing keys learns nothing from it.
 */
export class UnauthorizedError extends PaymentError {
  constructor(message = 'a valid API key is required: Authorization: Bearer <key>') {
    super('unauthorized', message);
  }
}

/** Thrown when a valid API key asks for something outside its scope (another account, an admin route). */
export class ForbiddenError extends PaymentError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/**
 * Thrown when an API key sends more requests to this host than its rate allows. Not `Retryable`
 * by another host at once (that would only spread the excess): wait `Retry-After` seconds.
 */
export class RateLimitedError extends PaymentError {
  readonly retryAfterSeconds: number;

  constructor(limitPerSecond: number, retryAfterSeconds: number) {
    super('rate_limited', `API key rate limit of ${limitPerSecond} requests per second exceeded`);
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
