/**
 * An in-memory payment archive for unit tests and for the archiver's fakes. It passes the same
 * contract suite as the PostgreSQL archive (test/contracts/payment-archive-contract.ts).
 * `unavailable` simulates PostgreSQL being down, deterministically.
 */

import { ArchiveUnavailableError } from '../errors';
import { historyPage } from '../history-page';
import { type HistoryPage, type HistoryQuery, MAX_PAYMENTS_PER_ID } from '../ledger';
import { paymentKey, type StoredPayment, serializePayment } from '../payment';
import { ArchiveConflictError } from './archive-errors';
import type {
  ArchiveCallOptions,
  ArchiveFindByIdOptions,
  ArchiveInsertOutcome,
  PaymentArchive,
} from './payment-archive';

export class MemoryArchive implements PaymentArchive {
  /** Set to true to make every call fail as if PostgreSQL were down. */
  unavailable = false;
  /** The exact JSON text of each payment, by paymentKey (payer and id). */
  private readonly texts = new Map<string, string>();
  /** paymentKey by sequence, to refuse a second payment with one sequence. */
  private readonly bySequence = new Map<number, string>();

  async insertMany(payments: StoredPayment[], options?: ArchiveCallOptions): Promise<ArchiveInsertOutcome> {
    this.checkAvailable(options);
    const fresh = new Map<string, StoredPayment>();
    const already = new Set<string>();
    const freshSequences = new Map<number, string>();
    // Check the whole batch first, so that a conflict stores nothing of it.
    for (const p of payments) {
      const key = paymentKey(p);
      const text = serializePayment(p);
      const pending = fresh.get(key);
      const stored = this.texts.get(key) ?? (pending && serializePayment(pending));
      const owner = this.bySequence.get(p.sequence) ?? freshSequences.get(p.sequence);
      if (stored !== undefined && stored !== text)
        throw new ArchiveConflictError(`payment ${p.id} of payer ${p.payer} is archived with other content`);
      if (owner !== undefined && owner !== key)
        throw new ArchiveConflictError(`sequence ${p.sequence} is archived for another payment`);
      if (this.texts.has(key)) already.add(key);
      else {
        fresh.set(key, p);
        freshSequences.set(p.sequence, key);
      }
    }
    for (const [key, p] of fresh) {
      this.texts.set(key, serializePayment(p));
      this.bySequence.set(p.sequence, key);
    }
    return { inserted: fresh.size, alreadyArchived: already.size };
  }

  async get(id: string, payer: string, options?: ArchiveCallOptions): Promise<StoredPayment | undefined> {
    this.checkAvailable(options);
    const text = this.texts.get(paymentKey({ id, payer }));
    return text === undefined ? undefined : (JSON.parse(text) as StoredPayment);
  }

  async findById(id: string, options?: ArchiveFindByIdOptions): Promise<StoredPayment[]> {
    this.checkAvailable(options);
    const accounts = options?.accounts;
    return this.all()
      .filter((p) => p.id === id)
      .filter((p) => accounts === undefined || accounts.includes(p.payer) || accounts.includes(p.payee))
      .sort((a, b) => a.sequence - b.sequence)
      .slice(0, MAX_PAYMENTS_PER_ID);
  }

  async history(query: HistoryQuery, options?: ArchiveCallOptions): Promise<HistoryPage> {
    this.checkAvailable(options);
    return historyPage(this.all(), query);
  }

  async ping(options?: ArchiveCallOptions): Promise<void> {
    this.checkAvailable(options);
  }

  async close(): Promise<void> {}

  private all(): StoredPayment[] {
    return [...this.texts.values()].map((text) => JSON.parse(text) as StoredPayment);
  }

  private checkAvailable(options: ArchiveCallOptions | undefined): void {
    if (options?.signal?.aborted)
      throw new ArchiveUnavailableError('archive call aborted', { cause: options.signal.reason });
    if (this.unavailable) throw new ArchiveUnavailableError('memory archive set unavailable');
  }
}
