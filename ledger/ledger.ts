/**
 * The ledger's contract, which every implementation (etcd, in-memory) must meet; the shared suite
 * in test/contracts/ledger-contract.ts checks each one against it.
 *
 * A payment's identity is (payer, id): the id is the payer's idempotency key, not a global one.
 * Two payers may use the same id; those are two payments, and neither learns of the other from
 * `commit`.
 *
 * Guarantees a caller relies on:
 *  - `commit` records a (payer, id) at most once. The first commit answers `committed`; any later
 *    commit of the same payer and id with the same content answers `replayed` with the stored
 *    payment; other content throws IdempotencyConflictError and changes nothing. The same id
 *    under another payer is another payment, and answers `committed`.
 *  - Once `commit` resolves, every later `get`, `findById` and `history`, on any host, sees the
 *    payment.
 *  - When the store cannot answer within its deadline, methods throw QuorumUnavailableError; a
 *    commit that threw it may or may not have been recorded, and retrying it is always safe.
 */
import type { PaymentIntent, StoredPayment } from './payment';

export type CommitKind = 'committed' | 'replayed';

export interface CommitOutcome {
  kind: CommitKind;
  payment: StoredPayment;
}

/** Facts the committing host adds to a payment. */
export interface CommitContext {
  host: string;
  /** ISO-8601 UTC timestamp from the host's clock. */
  committedAt: string;
  /** Hybrid logical clock timestamp (coordination/clock/hlc.ts), when the host keeps one. */
  hlc?: string;
}

export interface HistoryQuery {
  account: string;
  /** Inclusive lower bound on committedAt, ISO-8601 UTC (as produced by Date#toISOString). */
  from?: string;
  /** Exclusive upper bound on committedAt, same format. */
  to?: string;
  /** Page size, 1..1000. */
  limit: number;
  /** Return only payments whose sequence is greater than this (the cursor). */
  afterSequence?: number;
}

export interface HistoryPage {
  /**
   * In commit order (ascending sequence). At most `limit`, and no more than about
   * HISTORY_PAGE_BYTES of payments (always at least one): a page cut by bytes is shorter than
   * `limit` and has a `continueAfter`.
   */
  payments: StoredPayment[];
  /** Sequence to continue after, or undefined when this page is the last. */
  continueAfter: number | undefined;
}

/**
 * Most payments `findById` returns. Past it (more than this many payers used one id) it returns
 * the ones committed first (smallest sequences); a caller that knows the payer uses `get`, which
 * has no such limit.
 */
export const MAX_PAYMENTS_PER_ID = 100;

/** Options of one read. */
export interface ReadOptions {
  /**
   * Abandons the read (its HTTP request was): no etcd call or PostgreSQL query is issued after
   * it fires, and the one in flight is cancelled (issue 17 §4).
   */
  signal?: AbortSignal;
}

export interface FindByIdOptions extends ReadOptions {
  /**
   * Only the payments that involve one of these accounts, as payer or payee, filtered before
   * MAX_PAYMENTS_PER_ID applies: the payments of other payers of the id cannot crowd them out
   * (issue 17 §3). Default every payment with the id.
   */
  accounts?: readonly string[];
}

/**
 * Most bytes of payments (serialized) a history page holds, whatever its `limit`, so that one
 * request's memory is bounded (issue 17 §2): 1 MiB is about 64 payments at MAX_PAYMENT_BYTES and
 * over 1000 ordinary ones.
 */
export const HISTORY_PAGE_BYTES = 1024 * 1024;

export interface PaymentLedger {
  commit(intent: PaymentIntent, context: CommitContext): Promise<CommitOutcome>;
  /** The payment `id` of `payer`, or undefined. */
  get(id: string, payer: string, options?: ReadOptions): Promise<StoredPayment | undefined>;
  /**
   * Every payment with this id, whoever paid it (with `accounts`, that involves one of them), in
   * ascending sequence; empty when there is none. At most MAX_PAYMENTS_PER_ID (see there).
   */
  findById(id: string, options?: FindByIdOptions): Promise<StoredPayment[]>;
  history(query: HistoryQuery, options?: ReadOptions): Promise<HistoryPage>;
  /** Resolves when a quorum answers a linearizable read; throws QuorumUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MAX_HISTORY_LIMIT = 1000;
