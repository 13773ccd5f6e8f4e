/**
 * The ledger as one, over its two tiers (issue 14): etcd's hot window (ledger/etcd/etcd-ledger.ts)
 * and the archive every older payment moved to (ledger/archive/, moved by the leader's
 * coordination/cluster/ledger-archiver.ts). Passes the same ledger contract as each tier alone.
 *
 * Exactly once across the tiers: before a commit, the id is checked against the archived-id
 * summary (ledger/etcd/archived-id-cache.ts). Only an id the summary may hold is looked up in the
 * archive, and answered from it (replay or conflict) when archived. Otherwise the commit goes to
 * etcd guarded by the summary bucket's version: an archival that ran between the check and the
 * transaction makes etcd refuse it (ArchivedIdsChangedError), and the commit checks again against
 * the bucket as it is now. So an id moved out of etcd just after it was checked is never committed
 * a second time, and a PostgreSQL outage only touches ids the summary may hold (≤ 1 % of new ones).
 *
 * Reads: a payment missed in etcd is looked up in the archive only if the summary, confirmed
 * current, may hold its id. History is the archive up to `archivedThrough` (every payment up to
 * that sequence is archived; every later one is still in etcd), then etcd after it: one sequence
 * order, one cursor, `from`/`to` on both. A read that needs the archive while it is down throws
 * ArchiveUnavailableError (503 archive_unavailable + Retry-After); hot reads and commits do not.
 * A read's signal (its HTTP request) goes to both tiers: an abandoned read stops its etcd calls and
 * drops its PostgreSQL query, which the archive's statement timeout bounds anyway (issue 17 §4).
 */
import { randomUUID } from 'node:crypto';
import type { PaymentArchive } from './archive/payment-archive';
import { ArchivedIdsChangedError, IdempotencyConflictError, QuorumUnavailableError } from './errors';
import type { ArchivedIdCache } from './etcd/archived-id-cache';
import type { EtcdLedger } from './etcd/etcd-ledger';
import {
  type CommitContext,
  type CommitOutcome,
  type FindByIdOptions,
  type HistoryPage,
  type HistoryQuery,
  MAX_PAYMENTS_PER_ID,
  type PaymentLedger,
  type ReadOptions,
} from './ledger';
import { type PaymentIntent, type StoredPayment, sameContent, toIntent } from './payment';

export interface TieredLedgerOptions {
  hot: EtcdLedger;
  archive: PaymentArchive;
  archivedIds: ArchivedIdCache;
  /** Commit attempts when archivals keep changing the summary under it. Default 5. */
  maxAttempts?: number;
}

export class TieredLedger implements PaymentLedger {
  private readonly hot: EtcdLedger;
  private readonly archive: PaymentArchive;
  private readonly archivedIds: ArchivedIdCache;
  private readonly maxAttempts: number;

  constructor({ hot, archive, archivedIds, maxAttempts = 5 }: TieredLedgerOptions) {
    this.hot = hot;
    this.archive = archive;
    this.archivedIds = archivedIds;
    this.maxAttempts = maxAttempts;
  }

  async commit(intent: PaymentIntent, context: CommitContext): Promise<CommitOutcome> {
    // One nonce for every attempt. An attempt refused for a changed summary may follow one whose
    // transaction etcd3 sent twice: the first send committed, the resend was refused on the new
    // bucket version. A fresh nonce would then find that first write as someone else's, and answer
    // this very request 200 "replayed" instead of 201.
    const nonce = randomUUID();
    for (let attempt = 1; ; attempt++) {
      // After a refusal, the host's copy is behind: confirm the bucket with etcd before trusting it.
      const check =
        attempt === 1
          ? await this.archivedIds.check(intent.id)
          : await this.archivedIds.confirmedCheck(intent.id);
      if (check.mayBeArchived) {
        const archived = await this.archive.get(intent.id, intent.payer);
        if (archived) {
          if (!sameContent(toIntent(archived), intent))
            throw new IdempotencyConflictError(intent.id, intent.payer);
          return { kind: 'replayed', payment: archived };
        }
      }
      try {
        return await this.hot.commit(intent, context, check.guard, nonce);
      } catch (error) {
        if (!(error instanceof ArchivedIdsChangedError) || attempt >= this.maxAttempts) throw error;
      }
    }
  }

  async get(id: string, payer: string, options: ReadOptions = {}): Promise<StoredPayment | undefined> {
    const hot = await this.hot.get(id, payer, options);
    if (hot) return hot;
    return (await this.mayBeArchived(id)) ? this.archive.get(id, payer, options) : undefined;
  }

  async findById(id: string, options: FindByIdOptions = {}): Promise<StoredPayment[]> {
    const hot = await this.hot.findById(id, options);
    if (!(await this.mayBeArchived(id))) return hot;
    const archived = await this.archive.findById(id, options);
    const byPayer = new Map([...archived, ...hot].map((p) => [p.payer, p]));
    return [...byPayer.values()].sort((a, b) => a.sequence - b.sequence).slice(0, MAX_PAYMENTS_PER_ID);
  }

  async history(query: HistoryQuery, options: ReadOptions = {}): Promise<HistoryPage> {
    // The mark may move while we read etcd; re-read it after, and read again if it moved (an
    // archival then may have removed from etcd payments past the mark we used).
    for (let attempt = 1; attempt <= 3; attempt++) {
      const through = await this.archivedIds.archivedThrough();
      options.signal?.throwIfAborted();
      const page = await this.historyAt(query, through, options);
      if ((await this.archivedIds.archivedThrough()) === through) return page;
    }
    throw new QuorumUnavailableError('history: archival kept moving the archive mark; retry');
  }

  ping(): Promise<void> {
    return this.hot.ping();
  }

  async close(): Promise<void> {
    await Promise.all([this.archivedIds.close(), this.hot.close(), this.archive.close()]);
  }

  private async historyAt(query: HistoryQuery, through: number, options: ReadOptions): Promise<HistoryPage> {
    const after = query.afterSequence ?? 0;
    let cold: StoredPayment[] = [];
    if (after < through) {
      const page = await this.archive.history(query, options);
      cold = page.payments.filter((p) => p.sequence <= through);
      // A page of archived payments, full or cut by bytes, with more of them to come: the cursor
      // stays in the archive (a cut page may be followed by more payments up to `through`).
      if (cold.length > 0 && cold.length === page.payments.length && page.continueAfter !== undefined)
        return { payments: cold, continueAfter: cold.at(-1)!.sequence };
    }
    const room = query.limit - cold.length;
    const hot = await this.hot.history(
      { ...query, afterSequence: Math.max(after, through), limit: Math.max(room, 1) },
      options,
    );
    const payments = [...cold, ...hot.payments.slice(0, room)];
    const more = hot.continueAfter !== undefined || hot.payments.length > room;
    return { payments, continueAfter: more ? payments.at(-1)?.sequence : undefined };
  }

  /** Whether the archive may hold a payment with this id, by the summary confirmed current. */
  private async mayBeArchived(id: string): Promise<boolean> {
    return (await this.archivedIds.confirmedCheck(id)).mayBeArchived;
  }
}
