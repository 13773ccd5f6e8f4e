/**
 * The domain's errors: one closed table of the codes the payment system's own logic fails with,
 * and the typed errors that carry them. Handlers, the ledger and coordination throw; the HTTP
 * layer (functions/http-errors.ts) maps codes to statuses, adds the errors only HTTP has (401,
 * 403, 413, 415, 429, 431), and answers `{"error":{"code","message","retryable","details?"}}`.
 *
 * Retryable errors carry the `Retryable` symbol, the way etcd3 marks `RecoverableError`. The mark
 * goes out as the body's `retryable` flag, and PaymentsClient (client/payments-client.ts) retries,
 * with the same payment id on another host, exactly what carries it.
 */

/** Every code the domain fails with. Adding one means giving it a status in functions/http-errors.ts. */
export const ERROR_CODES = [
  'invalid_request',
  'not_found',
  'idempotency_conflict',
  'ambiguous_payment_id',
  'stale_master',
  'unavailable',
  'overloaded',
  'storage_full',
  'archive_unavailable',
  'result_too_large',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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

/**
 * Base class: an error answered with a stable code. `Code` is widened only by the HTTP layer, for
 * its own codes (functions/http-errors.ts).
 */
export class PaymentError<Code extends string = ErrorCode> extends Error {
  readonly code: Code;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: Code, message: string, options: { cause?: unknown; details?: ErrorDetail[] } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
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
 * Thrown while etcd's database is past the quota guard's high-water mark, or etcd has raised its
 * NOSPACE alarm (coordination/cluster/quota-guard.ts): new payments are refused before they reach
 * etcd, because etcd 3.4 does not apply its quota to the commit's nested transactions. Nothing was
 * written; reads go on. Payments resume by themselves once an operator has reclaimed space
 * (`payctl maintain`, docs/operations.md). Retry after Retry-After, on any host.
 */
export class StorageFullError extends PaymentError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds: number;

  /**
   * `reason` (which member, how large, what etcd said) is the error's cause, logged by the HTTP
   * layer; the message a client sees is always STORAGE_FULL_MESSAGE: a 503 told anyone with a key
   * each member's database size and the quota (issue 17 §7).
   */
  constructor(reason: string, options: { retryAfterSeconds?: number } = {}) {
    super('storage_full', STORAGE_FULL_MESSAGE, { cause: reason });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 5;
  }
}

/** What a client is told while payments are paused for storage, whatever the cause. */
export const STORAGE_FULL_MESSAGE = 'payments are paused: etcd storage is full; retry later';

/**
 * Thrown when the payment archive's PostgreSQL does not answer within the statement timeout,
 * refuses the connection, is shutting down, is a standby, or a commit was not confirmed by the
 * synchronous standby. Only requests that need the archive get it (a read of an archived payment,
 * a retry of an id the archived-id summary may hold); hot reads and new payments do not. A write
 * that threw it may or may not be stored; archive writes are idempotent, so retrying is safe.
 */
export class ArchiveUnavailableError extends PaymentError {
  readonly [Retryable] = true;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super('archive_unavailable', message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/**
 * Thrown when a read cannot be served as asked because one answer from etcd would exceed what the
 * client may receive (gRPC's 4 MiB message limit), even read one record at a time: only payments
 * stored before the size cap (MAX_PAYMENT_BYTES, ledger/payment.ts) can cause it. Not retryable:
 * payments never change, so the same request fails the same way; ask for less (`?payer=`).
 */
export class ResultTooLargeError extends PaymentError {
  constructor(what: string, options: { cause?: unknown } = {}) {
    super(
      'result_too_large',
      `the ${what} cannot be served: one stored payment is too large to read`,
      options,
    );
  }
}

/**
 * Thrown by a commit transaction whose archived-id summary changed after the host checked it: an
 * archival ran in between and may have moved one of the batch's ids out of etcd. Nothing was
 * written; ledger/tiered-ledger.ts checks the summary again and retries. Reaches a client only
 * when that keeps happening, and then it is retryable like a lost quorum.
 */
export class ArchivedIdsChangedError extends PaymentError {
  readonly [Retryable] = true;
  readonly retryAfterSeconds = 1;

  constructor() {
    super('unavailable', 'an archival changed the archived-id summary during the commit; retry');
  }
}
