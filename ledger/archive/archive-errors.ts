/**
 * The payment archive's own error. Its retryable one, ArchiveUnavailableError (`archive_unavailable`,
 * 503 + Retry-After), is in the domain's error table, ledger/errors.ts.
 */

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
