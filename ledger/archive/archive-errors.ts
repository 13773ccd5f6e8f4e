/**
 * The payment archive's errors. ArchiveUnavailableError is retryable, marked with ledger/errors.ts's
 * `Retryable` symbol like QuorumUnavailableError; it lives here until the error table gains the
 * code `archive_unavailable` (503 + Retry-After), when it moves to ledger/errors.ts.
 */
import { Retryable } from '../errors';

/**
 * Thrown when PostgreSQL does not answer within the statement timeout, refuses the connection, is
 * shutting down, is a standby, or a commit was not confirmed by the synchronous standby. A write
 * that threw it may or may not be stored; archive writes are idempotent, so retrying is safe.
 */
export class ArchiveUnavailableError extends Error {
  readonly [Retryable] = true;
  readonly code = 'archive_unavailable';
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/**
 * Thrown by `insertMany` when a (payer, id) or a sequence is already archived with other content:
 * the tiers disagree about a payment, which exactly-once forbids. Never retried; nothing of the
 * batch is changed by it (rows already archived stay as they were).
 */
export class ArchiveConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
