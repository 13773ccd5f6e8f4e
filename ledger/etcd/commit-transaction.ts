/**
 * The commit path's single etcd transaction, for one payment or a batch of them (group commit).
 *
 * One outer transaction holds one nested transaction per distinct payment (payer, id):
 *
 *   if create_revision(<root>/payments/<id>/<payer>) == 0   -- the payer never used the id
 *   then put record, put payer index entry, put payee index entry
 *   else range record                                  -- return what is stored, to compare
 *
 * Every nested branch runs atomically at one etcd revision, so a payment and its index entries
 * appear together or not at all, and a duplicate never fails the rest of the batch. The position
 * of a payment inside the outer transaction goes into its sequence (ledger/etcd/sequence.ts).
 *
 * When payments may have left etcd for the archive, each carries the guard the tiered ledger
 * checked it against (ledger/tiered-ledger.ts): the outer transaction compares each guard's
 * bucket version and is refused as a whole (ArchivedIdsChangedError, nothing written) when an
 * archival rewrote one of those buckets meanwhile.
 *
 * Safe under the etcd3 client's automatic retry: each commit carries a random nonce stored in
 * the record. If a retry of an already-committed transaction finds the record, the nonce is ours,
 * and the payment is reported as committed, not as a replay or a conflict.
 */
import type { IKeyValue, ITxnRequest, ITxnResponse } from 'etcd3';
import { ArchivedIdsChangedError, IdempotencyConflictError } from '../errors';
import type { CommitContext, CommitOutcome } from '../ledger';
import { type PaymentIntent, paymentKey, type StoredPayment, sameContent, toIntent } from '../payment';
import type { KeyLayout } from './key-layout';
import { SLOTS_PER_REVISION, toSequence } from './sequence';

/** The one etcd call the commit path makes: `client.kv` of an etcd3 client satisfies it. */
export interface TxnKv {
  txn(request: ITxnRequest): Promise<ITxnResponse>;
}

/** One payment waiting to be committed. */
export interface PendingCommit {
  intent: PaymentIntent;
  context: CommitContext;
  /** Random per commit call; identifies this host's own write if the transaction is resent. */
  nonce: string;
  /** The archived-id summary bucket version this payment was checked against, if any. */
  guard?: CommitGuard;
}

/** A key whose mod_revision must still be `modRevision` ('0': the key does not exist). */
export interface CommitGuard {
  key: string;
  modRevision: string;
}

/** What is stored at `<root>/payments/<id>/<payer>`. */
export interface StoredRecord {
  payment: PaymentIntent;
  committedAt: string;
  host: string;
  /** HLC of the commit, from CommitContext. */
  hlc?: string;
  /** Position of the payment inside its transaction. */
  position: number;
  nonce: string;
}

/** What is stored at an account index entry. */
export interface IndexEntry {
  position: number;
  committedAt: string;
}

export type CommitResult = { ok: true; outcome: CommitOutcome } | { ok: false; error: Error };

export function decodeRecord(kv: IKeyValue): { record: StoredRecord; payment: StoredPayment } {
  const record = JSON.parse(kv.value.toString()) as StoredRecord;
  const payment: StoredPayment = {
    ...toIntent(record.payment),
    committedAt: record.committedAt,
    sequence: toSequence(Number(kv.create_revision), record.position),
    host: record.host,
  };
  if (record.hlc !== undefined) payment.hlc = record.hlc;
  return { record, payment };
}

/**
 * Groups a batch by payment identity (payer, id). The first request for a payment goes into the
 * transaction; the others are answered from its result, because etcd forbids writing one key
 * twice in a txn. The same id under two payers is two payments, and both go in.
 */
function planBatch(batch: PendingCommit[]): { leaders: number[]; leaderOf: number[] } {
  const firstIndexByKey = new Map<string, number>();
  const leaders: number[] = [];
  const leaderOf = batch.map((item, i) => {
    const key = paymentKey(item.intent);
    const first = firstIndexByKey.get(key);
    if (first !== undefined) return first;
    firstIndexByKey.set(key, i);
    leaders.push(i);
    return i;
  });
  return { leaders, leaderOf };
}

export function buildCommitTxn(keys: KeyLayout, items: PendingCommit[]): ITxnRequest {
  if (items.length > SLOTS_PER_REVISION)
    throw new RangeError(`batch of ${items.length} exceeds ${SLOTS_PER_REVISION}`);
  const guards = new Map(items.flatMap(({ guard }) => (guard ? [[guard.key, guard.modRevision]] : [])));
  return {
    compare: [...guards].map(([key, modRevision]) => ({
      key: Buffer.from(key),
      target: 'Mod' as const,
      result: 'Equal' as const,
      mod_revision: modRevision,
    })),
    success: items.map(({ intent, context, nonce }, position) => {
      const recordKey = Buffer.from(keys.payment(intent.id, intent.payer));
      const record: StoredRecord = { payment: toIntent(intent), ...context, position, nonce };
      const entry = Buffer.from(
        JSON.stringify({ position, committedAt: context.committedAt } satisfies IndexEntry),
      );
      return {
        request_txn: {
          compare: [{ key: recordKey, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [
            { request_put: { key: recordKey, value: Buffer.from(JSON.stringify(record)) } },
            {
              request_put: {
                key: Buffer.from(keys.accountEntry(intent.payer, intent.id, intent.payer)),
                value: entry,
              },
            },
            {
              request_put: {
                key: Buffer.from(keys.accountEntry(intent.payee, intent.id, intent.payer)),
                value: entry,
              },
            },
          ],
          failure: [{ request_range: { key: recordKey } }],
        },
      };
    }),
  };
}

/** What the transaction found or wrote for one payment (payer, id). */
interface IdResult {
  stored: StoredPayment;
  /** True when the record was written by this very commit (first attempt or a resent one). */
  ownWrite: boolean;
  storedIntent: PaymentIntent;
}

/** Interprets the response of `buildCommitTxn` for the same items, one result per item. */
function readCommitResponse(items: PendingCommit[], response: ITxnResponse): IdResult[] {
  const revision = Number(response.header.revision);
  return items.map((item, position): IdResult => {
    const nested = response.responses[position]?.response_txn;
    if (!nested) throw new Error(`etcd returned no result for position ${position}`);
    if (nested.succeeded) {
      const stored = { ...toIntent(item.intent), ...item.context, sequence: toSequence(revision, position) };
      return { stored, ownWrite: true, storedIntent: item.intent };
    }
    const existing = nested.responses[0]?.response_range.kvs[0];
    if (!existing) throw new Error(`record for ${paymentKey(item.intent)} vanished`);
    const { record, payment } = decodeRecord(existing);
    return { stored: payment, ownWrite: record.nonce === item.nonce, storedIntent: record.payment };
  });
}

/** Replay when the content matches what is stored, conflict when it does not. */
function classify(item: PendingCommit, found: IdResult, isLeader: boolean): CommitResult {
  if (isLeader && found.ownWrite) return { ok: true, outcome: { kind: 'committed', payment: found.stored } };
  if (sameContent(found.storedIntent, item.intent)) {
    return { ok: true, outcome: { kind: 'replayed', payment: found.stored } };
  }
  return { ok: false, error: new IdempotencyConflictError(item.intent.id, item.intent.payer) };
}

/**
 * Commits a batch in one transaction on `kv` and answers every item. An item that repeats
 * a payment (payer and id) earlier in the batch is answered from that payment's result: a replay,
 * or a conflict when its content differs. Throws only when the transaction itself failed (then no item is known).
 */
export async function commitBatch(
  kv: TxnKv,
  keys: KeyLayout,
  batch: PendingCommit[],
): Promise<CommitResult[]> {
  const { leaders, leaderOf } = planBatch(batch);
  const leaderItems = leaders.map((i) => batch[i]!);
  const request = buildCommitTxn(keys, leaderItems);
  const response = await kv.txn(request);
  if (request.compare?.length && !response.succeeded) throw new ArchivedIdsChangedError();
  const found = readCommitResponse(leaderItems, response);
  const foundByIndex = new Map(leaders.map((batchIndex, k) => [batchIndex, found[k]!]));
  return batch.map((item, i) => classify(item, foundByIndex.get(leaderOf[i]!)!, leaderOf[i] === i));
}
