/**
 * The ledger on etcd: linearizable writes, several concurrent commits per transaction, and
 * linearizable reads, so a payment acknowledged by one host is visible at once on every other.
 *
 * The commit path reads straight down: functions/handlers/create-payment.ts → this file, which
 * submits → ledger/etcd/commit-batcher.ts, which groups and sends → ledger/etcd/commit-transaction.ts,
 * the one etcd transaction. With `batching: false` this file sends the transaction itself.
 *
 * Every call is bounded by `operationDeadlineMs`: if etcd has no quorum, or is unreachable, the
 * caller gets QuorumUnavailableError (HTTP 503) instead of a hang.
 */
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue } from 'etcd3';
import {
  type CommitContext,
  type CommitOutcome,
  type HistoryPage,
  type HistoryQuery,
  MAX_PAYMENTS_PER_ID,
  type PaymentLedger,
} from '../ledger';
import type { PaymentIntent, StoredPayment } from '../payment';
import { boundedEtcdCall, translateStoreError } from './bounded-etcd-call';
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
    this.readsPerTxn = readsPerTxn;
    this.batcher =
      batching === false ? undefined : new CommitBatcher({ kv: client.kv, keys: this.keys }, batching);
  }

  /** `guard`: the archived-id summary check this commit rests on (ledger/tiered-ledger.ts). */
  async commit(intent: PaymentIntent, context: CommitContext, guard?: CommitGuard): Promise<CommitOutcome> {
    const item = { intent, context, nonce: randomUUID(), guard };
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

  async get(id: string, payer: string): Promise<StoredPayment | undefined> {
    const response = await this.bounded(
      'read',
      this.client.kv.range({ key: Buffer.from(this.keys.payment(id, payer)) }),
    );
    const kv = response.kvs[0];
    return kv ? decodeRecord(kv).payment : undefined;
  }

  async findById(id: string): Promise<StoredPayment[]> {
    return this.bounded('read', this.readById(id));
  }

  /**
   * The first MAX_PAYMENTS_PER_ID payments of one id by sequence. etcd sorts the whole range by
   * create revision before it applies the limit, but payments of one batch share a revision and
   * the limit may cut that revision anywhere: when the range was cut, the last revision is read
   * whole (at most SLOTS_PER_REVISION keys) and the positions decide.
   */
  private async readById(id: string): Promise<StoredPayment[]> {
    const prefix = this.keys.paymentsWithId(id);
    const range = { key: Buffer.from(prefix), range_end: prefixEnd(prefix) };
    const first = await this.client.kv.range({
      ...range,
      sort_target: 'Create',
      sort_order: 'Ascend',
      limit: MAX_PAYMENTS_PER_ID,
    });
    let kvs = first.kvs;
    const last = kvs.at(-1)?.create_revision;
    if (first.more && last !== undefined) {
      const cut = await this.client.kv.range({
        ...range,
        min_create_revision: last,
        max_create_revision: last,
        revision: first.header.revision,
      });
      kvs = [...kvs.filter((kv) => kv.create_revision !== last), ...cut.kvs];
    }
    return kvs
      .map((kv) => decodeRecord(kv).payment)
      .sort((a, b) => a.sequence - b.sequence)
      .slice(0, MAX_PAYMENTS_PER_ID);
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    return this.bounded('history', this.readHistory(query));
  }

  async ping(): Promise<void> {
    // A linearizable read goes through the Raft leader's ReadIndex, so it succeeds only with a quorum.
    const probe = this.client.kv.range({ key: Buffer.from(this.keys.readinessProbe()) });
    await this.bounded('readiness probe', probe, this.probeDeadlineMs);
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async readHistory({
    account,
    from,
    to,
    limit,
    afterSequence = 0,
  }: HistoryQuery): Promise<HistoryPage> {
    const prefix = this.keys.accountPrefix(account);
    const picked: { id: string; payer: string; sequence: number }[] = [];
    let minRevision = revisionOf(afterSequence);
    let snapshot: string | undefined;
    let exhausted = false;
    while (picked.length <= limit && !exhausted) {
      const response = await this.client.kv.range({
        key: Buffer.from(prefix),
        range_end: prefixEnd(prefix),
        sort_target: 'Create',
        sort_order: 'Ascend',
        limit: HISTORY_CHUNK,
        min_create_revision: minRevision,
        revision: snapshot,
      });
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
    const payments = await this.readRecords(page, snapshot);
    const more = picked.length > limit;
    return { payments, continueAfter: more ? page.at(-1)?.sequence : undefined };
  }

  private selectEntry(kv: IKeyValue, afterSequence: number, from?: string, to?: string) {
    const entry = JSON.parse(kv.value.toString()) as IndexEntry;
    const sequence = toSequence(Number(kv.create_revision), entry.position);
    if (sequence <= afterSequence) return [];
    if (from !== undefined && entry.committedAt < from) return [];
    if (to !== undefined && entry.committedAt >= to) return [];
    return [{ ...parseAccountEntry(kv.key.toString()), sequence }];
  }

  /** Reads records in order, several per transaction, at the history query's snapshot revision. */
  private async readRecords(
    wanted: { id: string; payer: string }[],
    revision: string | undefined,
  ): Promise<StoredPayment[]> {
    const payments: StoredPayment[] = [];
    for (let i = 0; i < wanted.length; i += this.readsPerTxn) {
      const chunk = wanted.slice(i, i + this.readsPerTxn);
      const response = await this.client.kv.txn({
        success: chunk.map(({ id, payer }) => ({
          request_range: { key: Buffer.from(this.keys.payment(id, payer)), revision },
        })),
      });
      for (const op of response.responses) {
        const kv = op.response_range.kvs[0];
        if (kv) payments.push(decodeRecord(kv).payment);
      }
    }
    return payments;
  }

  /** Bounds an etcd operation in time and turns store failures into QuorumUnavailableError. */
  private bounded<T>(what: string, operation: Promise<T>, limitMs = this.operationDeadlineMs): Promise<T> {
    return boundedEtcdCall(what, operation, limitMs);
  }
}
