/**
 * An in-memory ledger for unit tests of the HTTP layer. It passes the same contract suite as the
 * etcd ledger (test/contracts/ledger-contract.ts), so the two cannot drift. `unavailable` simulates a
 * store without quorum, deterministically.
 */
import { IdempotencyConflictError, InvalidRequestError, QuorumUnavailableError } from './errors';
import { toSequence } from './etcd/sequence';
import { historyPage } from './history-page';
import {
  type CommitContext,
  type CommitOutcome,
  type FindByIdOptions,
  type HistoryPage,
  type HistoryQuery,
  MAX_PAYMENTS_PER_ID,
  type PaymentLedger,
} from './ledger';
import {
  type PaymentIntent,
  paymentKey,
  paymentSizeProblem,
  type StoredPayment,
  sameContent,
  toIntent,
} from './payment';

export class MemoryLedger implements PaymentLedger {
  /** Set to true to make every call fail as if etcd had lost quorum. */
  unavailable = false;
  private revision = 0;
  /** By paymentKey (payer and id). */
  private readonly payments = new Map<string, StoredPayment>();

  async commit(intent: PaymentIntent, context: CommitContext): Promise<CommitOutcome> {
    this.checkAvailable();
    const tooLarge = paymentSizeProblem(intent);
    if (tooLarge) throw new InvalidRequestError(tooLarge, [{ field: '', message: tooLarge }]);
    const key = paymentKey(intent);
    const stored = this.payments.get(key);
    if (stored) {
      if (!sameContent(stored, intent)) throw new IdempotencyConflictError(intent.id, intent.payer);
      return { kind: 'replayed', payment: stored };
    }
    this.revision += 1;
    const payment = { ...toIntent(intent), ...context, sequence: toSequence(this.revision, 0) };
    this.payments.set(key, payment);
    return { kind: 'committed', payment };
  }

  async get(id: string, payer: string): Promise<StoredPayment | undefined> {
    this.checkAvailable();
    return this.payments.get(paymentKey({ id, payer }));
  }

  async findById(id: string, { accounts }: FindByIdOptions = {}): Promise<StoredPayment[]> {
    this.checkAvailable();
    return [...this.payments.values()]
      .filter((p) => p.id === id)
      .filter((p) => accounts === undefined || accounts.includes(p.payer) || accounts.includes(p.payee))
      .sort((a, b) => a.sequence - b.sequence)
      .slice(0, MAX_PAYMENTS_PER_ID);
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    this.checkAvailable();
    return historyPage(this.payments.values(), query);
  }

  async ping(): Promise<void> {
    this.checkAvailable();
  }

  async close(): Promise<void> {}

  private checkAvailable(): void {
    if (this.unavailable) throw new QuorumUnavailableError('memory ledger set unavailable');
  }
}
