/**
 * The payment archive: the tier that keeps every payment forever once it leaves etcd's hot
 * window (issue 14). Implementations: PostgreSQL (pg-archive.ts) and memory (memory-archive.ts),
 * both checked by one suite, test/contracts/payment-archive-contract.ts.
 *
 * A payment is archived exactly as committed: the same sequence, committedAt, hlc and host, and
 * the exact JSON text of serializePayment (ledger/payment.ts), so that a replay served from the
 * archive is byte-identical to the first answer. Reads follow PaymentLedger's semantics
 * (ledger/ledger.ts), so the two tiers can be read as one.
 *
 * Every method takes an optional AbortSignal, and throws ArchiveUnavailableError (retryable) when
 * the store cannot answer in time.
 */
import type { HistoryPage, HistoryQuery } from '../ledger';
import type { StoredPayment } from '../payment';

export interface ArchiveCallOptions {
  /** Abandons the call: it rejects at once and its connection is dropped. */
  signal?: AbortSignal;
}

export interface ArchiveFindByIdOptions extends ArchiveCallOptions {
  /** Only payments involving one of these accounts, filtered before the cap (FindByIdOptions). */
  accounts?: readonly string[];
}

export interface ArchiveInsertOutcome {
  /** Payments stored by this call. */
  inserted: number;
  /** Payments that were already archived with the same content (a retried or repeated batch). */
  alreadyArchived: number;
}

export interface PaymentArchive {
  /**
   * Stores the payments in one atomic step, idempotent on (payer, id): a payment already archived
   * with the same text is left as it is. Throws ArchiveConflictError (and stores nothing of the
   * batch) when a (payer, id) or a sequence is archived with other content.
   */
  insertMany(payments: StoredPayment[], options?: ArchiveCallOptions): Promise<ArchiveInsertOutcome>;
  /** The payment `id` of `payer`, or undefined. */
  get(id: string, payer: string, options?: ArchiveCallOptions): Promise<StoredPayment | undefined>;
  /** Every archived payment with this id (with `accounts`, involving one of them), ascending sequence, at most MAX_PAYMENTS_PER_ID. */
  findById(id: string, options?: ArchiveFindByIdOptions): Promise<StoredPayment[]>;
  /** An account's payments as payer or payee, as PaymentLedger.history answers. */
  history(query: HistoryQuery, options?: ArchiveCallOptions): Promise<HistoryPage>;
  /** Resolves when the archive answers a query; throws ArchiveUnavailableError otherwise. */
  ping(options?: ArchiveCallOptions): Promise<void>;
  close(): Promise<void>;
}
