/**
 * An in-memory ledger for unit tests of the HTTP layer. It passes the same contract suite as the
 * etcd ledger (test/ledger-contract.ts), so the two cannot drift. `unavailable` simulates a
 * store without quorum, deterministically.
 */
import { IdempotencyConflictError, QuorumUnavailableError } from './errors';
import type { CommitContext, CommitOutcome, HistoryPage, HistoryQuery, PaymentLedger } from './ledger';
import { type PaymentIntent, type StoredPayment, sameContent, toIntent } from './payment';
import { toSequence } from './sequence';

export class MemoryLedger implements PaymentLedger {
  /** Set to true to make every call fail as if etcd had lost quorum. */
  unavailable = false;
  private revision = 0;
  private readonly payments = new Map<string, StoredPayment>();

  async commit(intent: PaymentIntent, context: CommitContext): Promise<CommitOutcome> {
    this.checkAvailable();
    const stored = this.payments.get(intent.id);
    if (stored) {
      if (!sameContent(stored, intent)) throw new IdempotencyConflictError(intent.id);
      return { kind: 'replayed', payment: stored };
    }
    this.revision += 1;
    const payment = { ...toIntent(intent), ...context, sequence: toSequence(this.revision, 0) };
    this.payments.set(intent.id, payment);
    return { kind: 'committed', payment };
  }

  async get(id: string): Promise<StoredPayment | undefined> {
    this.checkAvailable();
    return this.payments.get(id);
  }

  async history({ account, from, to, limit, afterSequence = 0 }: HistoryQuery): Promise<HistoryPage> {
    this.checkAvailable();
    const matching = [...this.payments.values()]
      .filter((p) => p.payer === account || p.payee === account)
      .filter((p) => p.sequence > afterSequence)
      .filter(
        (p) => (from === undefined || p.committedAt >= from) && (to === undefined || p.committedAt < to),
      )
      .sort((a, b) => a.sequence - b.sequence);
    const payments = matching.slice(0, limit);
    return { payments, continueAfter: matching.length > limit ? payments.at(-1)?.sequence : undefined };
  }

  async ping(): Promise<void> {
    this.checkAvailable();
  }

  async close(): Promise<void> {}

  private checkAvailable(): void {
    if (this.unavailable) throw new QuorumUnavailableError('memory ledger set unavailable');
  }
}
