/**
 * The ledger on etcd: linearizable writes, several concurrent commits per transaction, and
 * linearizable reads, so a payment acknowledged by one host is visible at once on every other.
 *
 * The commit path reads straight down: functions/handlers/create-payment.ts → this file, which
 * submits → ledger/etcd/commit-batcher.ts, which groups and sends → ledger/etcd/commit-transaction.ts,
 * the one etcd transaction. With `batching: false` this file sends the transaction itself.
 *
 * Every call is bounded by `operationDeadlineMs`: if etcd has no quorum, or is unreachable, the
 * caller gets QuorumUnavailableError (HTTP 503) instead of a hang. A read stops issuing etcd calls
 * at its deadline or when its caller's signal fires, and cancels the one in flight (issue 17 §4).
 *
 * Reads are bounded in bytes (issue 17 §2): records are read by transactions of at most
 * RECORD_CHUNK_BYTES at MAX_PAYMENT_BYTES each, halved when an answer still exceeds gRPC's 4 MiB
 * receive limit (payments stored before the cap), and a history page stops at HISTORY_PAGE_BYTES.
 */
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue } from 'etcd3';
import { InvalidRequestError } from '../errors';
import {
  type CommitContext,
  type CommitOutcome,
  type FindByIdOptions,
  HISTORY_PAGE_BYTES,
  type HistoryPage,
  type HistoryQuery,
  MAX_PAYMENTS_PER_ID,
  type PaymentLedger,
  type ReadOptions,
} from '../ledger';
import {
  MAX_PAYMENT_BYTES,
  type PaymentIntent,
  paymentSizeProblem,
  STORED_OVERHEAD_BYTES,
  type StoredPayment,
} from '../payment';
import {
  boundedEtcdCall,
  cancellableCall,
  isMessageTooLarge,
  translateStoreError,
} from './bounded-etcd-call';
import { CommitBatcher, type CommitBatcherOptions } from './commit-batcher';
import {
  type CommitGuard,
  type CommitResult,
  commitBatch,
  decodeRecord,
  type IndexEntry,
  type PendingCommit,
} from './commit-transaction';
import { DEFAULT_ROOT, type KeyLayout, keyLayout, parseAccountEntry, prefixEnd } from './key-layout';
import { revisionOf, SLOTS_PER_REVISION, toSequence } from './sequence';

export interface EtcdLedgerOptions {
  /** A client from coordination/etcd/etcd-client.ts (it carries the per-call deadlines and retries). */
  client: Etcd3;
  /** Key root. Default DEFAULT_ROOT (`/pay/v2`). */
  root?: string;
  /** Upper bound on any one ledger operation, retries included, in ms. Default 5000. */
  operationDeadlineMs?: number;
  /** Bound on the readiness probe, in ms; short, because load balancers time out probes quickly. Default 2000. */
  probeDeadlineMs?: number;
  /** Most record reads sent in one etcd transaction; stay under etcd's --max-txn-ops (128 by default). */
  readsPerTxn?: number;
  /**
   * Group commit settings (see CommitBatcherOptions for each default: up to 256 payments per txn,
   * 2 ms window while busy, 4 txns in flight, etcd --max-txn-ops 2048). `false` sends one
   * transaction per commit, the naive path the bench compares against.
   */
  batching?: CommitBatcherOptions | false;
}

/**
 * Index entries fetched per round of a history query. More than one revision's worth of entries
 * for one account (each payment touches an account once, so at most SLOTS_PER_REVISION), so a
 * round always makes progress.
 */
const HISTORY_CHUNK = SLOTS_PER_REVISION + 24;

/**
 * Most bytes of records one transaction may read: half of gRPC's default 4 MiB receive limit,
 * counted at the largest record a payment within MAX_PAYMENT_BYTES makes. (An index entry is
 * under 500 bytes, so a HISTORY_CHUNK of them is about 0.5 MB.)
 */
const RECORD_CHUNK_BYTES = 2 * 1024 * 1024;
const MAX_RECORD_BYTES = MAX_PAYMENT_BYTES + STORED_OVERHEAD_BYTES;

export class EtcdLedger implements PaymentLedger {
  private readonly client: Etcd3;
  private readonly keys: KeyLayout;
  private readonly operationDeadlineMs: number;
  private readonly probeDeadlineMs: number;
  private readonly readsPerTxn: number;
  /** Undefined when batching is off. */
  readonly batcher: CommitBatcher | undefined;

  constructor({
    client,
    root = DEFAULT_ROOT,
    operationDeadlineMs = 5000,
    probeDeadlineMs = 2000,
    readsPerTxn = 100,
    batching = {},
  }: EtcdLedgerOptions) {
    this.client = client;
    this.keys = keyLayout(root);
    this.operationDeadlineMs = operationDeadlineMs;
    this.probeDeadlineMs = probeDeadlineMs;
    this.readsPerTxn = Math.max(1, Math.min(readsPerTxn, Math.floor(RECORD_CHUNK_BYTES / MAX_RECORD_BYTES)));
    this.batcher =
      batching === false ? undefined : new CommitBatcher({ kv: client.kv, keys: this.keys }, batching);
  }

  /**
   * `guard`: the archived-id summary check this commit rests on (ledger/tiered-ledger.ts).
   * `nonce`: identifies this commit's own write when its transaction is sent again. Default a
   * fresh one; a caller that retries one payment passes the same nonce to every attempt.
   */
  async commit(
    intent: PaymentIntent,
    context: CommitContext,
    guard?: CommitGuard,
    nonce: string = randomUUID(),
  ): Promise<CommitOutcome> {
    const tooLarge = paymentSizeProblem(intent);
    if (tooLarge) throw new InvalidRequestError(tooLarge, [{ field: '', message: tooLarge }]);
    const item = { intent, context, nonce, guard };
    const result = await this.bounded(
      'commit',
      this.batcher ? this.batcher.submit(item) : this.commitMany([item]).then(([only]) => only),
    );
    if (!result) throw new Error('commit returned no result');
    // A batch's transport failure reaches here as a result, not a throw: translate it the same way.
    if (!result.ok) throw translateStoreError('commit', result.error);
    return result.outcome;
  }

  /** One transaction for these commits, without the batcher: the naive path (`batching: false`). */
  commitMany(items: PendingCommit[]): Promise<CommitResult[]> {
    return commitBatch(this.client.kv, this.keys, items);
  }

  async get(id: string, payer: string, { signal }: ReadOptions = {}): Promise<StoredPayment | undefined> {
    const response = await this.bounded(
      'read',
      (stop) =>
        this.client.kv.range({ key: Buffer.from(this.keys.payment(id, payer)) }, cancellableCall(stop)),
      { signal },
    );
    const kv = response.kvs[0];
    return kv ? decodeRecord(kv).payment : undefined;
  }

  async findById(id: string, { accounts, signal }: FindByIdOptions = {}): Promise<StoredPayment[]> {
    return this.bounded(
      'read',
      (stop) => (accounts === undefined ? this.readById(id, stop) : this.readByAccounts(id, accounts, stop)),
      { signal },
    );
  }

  /**
   * The first MAX_PAYMENTS_PER_ID payments of one id by sequence. etcd sorts the whole range by
   * create revision before it applies the limit, but payments of one batch share a revision and
   * the limit may cut that revision anywhere: when the range was cut, the last revision is read
   * whole (at most SLOTS_PER_REVISION keys) and the positions decide.
   */
  private async readById(id: string, signal: AbortSignal): Promise<StoredPayment[]> {
    const prefix = this.keys.paymentsWithId(id);
    // Keys first, then the records by byte-bounded transactions (readRecords).
    const range = { key: Buffer.from(prefix), range_end: prefixEnd(prefix), keys_only: true };
    const first = await this.client.kv.range(
      { ...range, sort_target: 'Create', sort_order: 'Ascend', limit: MAX_PAYMENTS_PER_ID },
      cancellableCall(signal),
    );
    let kvs = first.kvs;
    const last = kvs.at(-1)?.create_revision;
    if (first.more && last !== undefined) {
      signal.throwIfAborted();
      const cut = await this.client.kv.range(
        { ...range, min_create_revision: last, max_create_revision: last, revision: first.header.revision },
        cancellableCall(signal),
      );
      kvs = [...kvs.filter((kv) => kv.create_revision !== last), ...cut.kvs];
    }
    const wanted = kvs.map((kv) => ({ id, payer: kv.key.toString().slice(prefix.length) }));
    const { payments } = await this.readRecords(wanted, first.header.revision, signal);
    return payments.sort((a, b) => a.sequence - b.sequence).slice(0, MAX_PAYMENTS_PER_ID);
  }

  /**
   * The payments of this id that involve one of `accounts`, from the accounts' index entries
   * (`accounts/<account>/<id>/<payer>`), so other payers of the id never crowd them out.
   */
  private async readByAccounts(
    id: string,
    accounts: readonly string[],
    signal: AbortSignal,
  ): Promise<StoredPayment[]> {
    const payers = new Set<string>();
    let revision: string | undefined;
    for (let i = 0; i < accounts.length; i += this.readsPerTxn) {
      signal.throwIfAborted();
      const response = await this.client.kv.txn(
        {
          success: accounts.slice(i, i + this.readsPerTxn).map((account) => {
            const prefix = this.keys.accountEntriesWithId(account, id);
            return {
              request_range: {
                key: Buffer.from(prefix),
                range_end: prefixEnd(prefix),
                keys_only: true,
                limit: MAX_PAYMENTS_PER_ID,
                revision,
              },
            };
          }),
        },
        cancellableCall(signal),
      );
      revision ??= response.header.revision;
      for (const op of response.responses)
        for (const kv of op.response_range.kvs) payers.add(parseAccountEntry(kv.key.toString()).payer);
    }
    const wanted = [...payers].map((payer) => ({ id, payer }));
    const { payments } = await this.readRecords(wanted, revision, signal);
    return payments.sort((a, b) => a.sequence - b.sequence).slice(0, MAX_PAYMENTS_PER_ID);
  }

  async history(query: HistoryQuery, { signal }: ReadOptions = {}): Promise<HistoryPage> {
    return this.bounded('history', (stop) => this.readHistory(query, stop), { signal });
  }

  async ping(): Promise<void> {
    // A linearizable read goes through the Raft leader's ReadIndex, so it succeeds only with a quorum.
    const probe = (stop: AbortSignal) =>
      this.client.kv.range({ key: Buffer.from(this.keys.readinessProbe()) }, cancellableCall(stop));
    await this.bounded('readiness probe', probe, {}, this.probeDeadlineMs);
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async readHistory(
    { account, from, to, limit, afterSequence = 0 }: HistoryQuery,
    signal: AbortSignal,
  ): Promise<HistoryPage> {
    const prefix = this.keys.accountPrefix(account);
    const picked: { id: string; payer: string; sequence: number }[] = [];
    let minRevision = revisionOf(afterSequence);
    let snapshot: string | undefined;
    let exhausted = false;
    while (picked.length <= limit && !exhausted) {
      signal.throwIfAborted();
      const response = await this.client.kv.range(
        {
          key: Buffer.from(prefix),
          range_end: prefixEnd(prefix),
          sort_target: 'Create',
          sort_order: 'Ascend',
          limit: HISTORY_CHUNK,
          min_create_revision: minRevision,
          revision: snapshot,
        },
        cancellableCall(signal),
      );
      snapshot ??= response.header.revision;
      let kvs = response.kvs;
      exhausted = !response.more;
      if (!exhausted) {
        // The last revision of a truncated chunk may be cut in the middle: leave it whole for the next round.
        const lastRevision = kvs.at(-1)!.create_revision;
        kvs = kvs.filter((kv) => kv.create_revision !== lastRevision);
        minRevision = Number(lastRevision);
      }
      picked.push(...kvs.flatMap((kv) => this.selectEntry(kv, afterSequence, from, to)));
      picked.sort((a, b) => a.sequence - b.sequence);
    }
    const page = picked.slice(0, limit);
    const { payments, cut } = await this.readRecords(page, snapshot, signal, HISTORY_PAGE_BYTES);
    const more = picked.length > limit || cut;
    return {
      payments,
      continueAfter: more ? (cut ? payments.at(-1)?.sequence : page.at(-1)?.sequence) : undefined,
    };
  }

  private selectEntry(kv: IKeyValue, afterSequence: number, from?: string, to?: string) {
    const entry = JSON.parse(kv.value.toString()) as IndexEntry;
    const sequence = toSequence(Number(kv.create_revision), entry.position);
    if (sequence <= afterSequence) return [];
    if (from !== undefined && entry.committedAt < from) return [];
    if (to !== undefined && entry.committedAt >= to) return [];
    return [{ ...parseAccountEntry(kv.key.toString()), sequence }];
  }

  /**
   * Reads records in order, several per transaction, at the query's snapshot revision, until
   * their values pass `maxBytes` (at least one is read; `cut` says whether any was left). A
   * transaction whose answer gRPC refuses as too large is split in two, down to one record;
   * a single record over the limit is ResultTooLargeError (bounded-etcd-call.ts).
   */
  private async readRecords(
    wanted: { id: string; payer: string }[],
    revision: string | undefined,
    signal: AbortSignal,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<{ payments: StoredPayment[]; cut: boolean }> {
    const payments: StoredPayment[] = [];
    let bytes = 0;
    let size = this.readsPerTxn;
    for (let i = 0; i < wanted.length; ) {
      signal.throwIfAborted();
      // Read no more than the budget left is likely to take: at the cap's size for the first
      // transaction, then at the average size seen (a page of large payments reads ~1 MiB, not 1.6).
      const estimate = payments.length > 0 ? bytes / payments.length : MAX_RECORD_BYTES;
      const likely = Math.ceil((maxBytes - bytes) / estimate) + 1;
      const chunk = wanted.slice(i, i + Math.max(1, Math.min(size, likely)));
      let response: Awaited<ReturnType<Etcd3['kv']['txn']>>;
      try {
        response = await this.client.kv.txn(
          {
            success: chunk.map(({ id, payer }) => ({
              request_range: { key: Buffer.from(this.keys.payment(id, payer)), revision },
            })),
          },
          cancellableCall(signal),
        );
      } catch (error) {
        if (!isMessageTooLarge(error) || chunk.length === 1) throw error;
        size = Math.ceil(chunk.length / 2);
        continue;
      }
      for (const op of response.responses) {
        const kv = op.response_range.kvs[0];
        if (!kv) continue;
        if (payments.length > 0 && bytes + kv.value.length > maxBytes) return { payments, cut: true };
        bytes += kv.value.length;
        payments.push(decodeRecord(kv).payment);
      }
      i += chunk.length;
    }
    return { payments, cut: false };
  }

  /** Bounds an etcd operation in time and turns store failures into QuorumUnavailableError. */
  private bounded<T>(
    what: string,
    operation: Promise<T> | ((signal: AbortSignal) => Promise<T>),
    { signal }: ReadOptions = {},
    limitMs = this.operationDeadlineMs,
  ): Promise<T> {
    return boundedEtcdCall(what, operation, limitMs, { signal });
  }
}
