/**
 * The group-commit policy, in-process over a scripted etcd `kv`: when a batch goes out, how big
 * it is, and that every waiter gets its own answer when etcd refuses or fails a batch. The same
 * semantics against real etcd are in test/cluster/commit-batcher-etcd.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { GRPCInvalidArgumentError, GRPCUnavailableError, type ITxnRequest, type ITxnResponse } from 'etcd3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isRetryable, OverloadedError } from '../../ledger/errors';
import { CommitBatcher, type CommitBatcherOptions } from '../../ledger/etcd/commit-batcher';
import type { PendingCommit, TxnKv } from '../../ledger/etcd/commit-transaction';
import { keyLayout } from '../../ledger/etcd/key-layout';
import { intent } from '../contracts/ledger-contract';

const keys = keyLayout('/test/batcher');
/** Every payment made by `pending`, by its record key, so a transaction can be read back as a batch. */
const byRecordKey = new Map<string, PendingCommit>();

const pending = (): PendingCommit => {
  const item = {
    intent: intent(),
    context: { host: 'h1', committedAt: '2026-01-01T00:00:00.000Z' },
    nonce: randomUUID(),
  };
  byRecordKey.set(keys.payment(item.intent.id, item.intent.payer), item);
  return item;
};

/** The payments a commit transaction carries, in order. */
const batchOf = (txn: ITxnRequest): PendingCommit[] =>
  (txn.success ?? []).map((op) => byRecordKey.get(String(op.request_txn?.compare?.[0]?.key))!);

/** etcd's answer when every payment of the transaction was new: all committed. */
const committed = (txn: ITxnRequest): ITxnResponse =>
  ({
    header: { revision: '1000' },
    responses: (txn.success ?? []).map(() => ({ response_txn: { succeeded: true, responses: [] } })),
  }) as unknown as ITxnResponse;

/** A `kv` whose transactions stay open until the test settles them. */
function scriptedKv() {
  const calls: { batch: PendingCommit[]; settle: () => void; fail: (e: Error) => void }[] = [];
  const txn = vi.fn(
    (request: ITxnRequest) =>
      new Promise<ITxnResponse>((resolve, reject) => {
        calls.push({ batch: batchOf(request), settle: () => resolve(committed(request)), fail: reject });
      }),
  );
  return { kv: { txn }, send: txn, calls };
}

/** A `kv` that answers at once, or throws what `refuse` returns for a batch. */
function answeringKv(refuse: (batch: PendingCommit[]) => Error | undefined) {
  const sent: PendingCommit[][] = [];
  const txn = vi.fn(async (request: ITxnRequest) => {
    const batch = batchOf(request);
    sent.push(batch);
    const error = refuse(batch);
    if (error) throw error;
    return committed(request);
  });
  return { kv: { txn }, sent };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const ids = (batch: PendingCommit[]) => batch.map((p) => p.intent.id);

describe('commit batcher', () => {
  beforeEach(() => {
    // Only the window timer is faked: setImmediate stays real, so "sent on the next turn" is observable.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = (kv: TxnKv, options: CommitBatcherOptions = {}) =>
    new CommitBatcher({ kv, keys }, { windowMs: 10_000, ...options });

  it('sheds payments past the queue bound at once with OverloadedError, then accepts again', async () => {
    const { kv, calls } = scriptedKv();
    const observer = { onShed: vi.fn(), onTransaction: vi.fn() };
    const batcher = make(kv, { maxInFlight: 1, maxQueued: 2, observer });
    const first = batcher.submit(pending());
    await nextTurn(); // the first goes out and stays in flight
    const queued = [batcher.submit(pending()), batcher.submit(pending())];
    const shed = await batcher.submit(pending());
    expect(shed.ok).toBe(false);
    expect(!shed.ok && shed.error).toBeInstanceOf(OverloadedError);
    expect(isRetryable(!shed.ok && shed.error)).toBe(true);
    expect(observer.onShed).toHaveBeenCalledTimes(1);
    calls[0]!.settle();
    await expect(first).resolves.toMatchObject({ ok: true });
    expect(observer.onTransaction).toHaveBeenCalledWith(1, expect.any(Number));
    await vi.advanceTimersByTimeAsync(10_000);
    await nextTurn();
    calls[1]!.settle();
    for (const answer of queued) await expect(answer).resolves.toMatchObject({ ok: true });
    // Room again: a new payment is accepted, not shed.
    const later = batcher.submit(pending());
    await nextTurn();
    calls[2]!.settle();
    await expect(later).resolves.toMatchObject({ ok: true });
    expect(observer.onShed).toHaveBeenCalledTimes(1);
  });

  it('sends at once when idle, without waiting for the window', async () => {
    const { kv, send, calls } = scriptedKv();
    const batcher = make(kv);
    const item = pending();
    const answer = batcher.submit(item);
    await nextTurn();
    expect(send).toHaveBeenCalledTimes(1);
    expect(ids(calls[0]!.batch)).toEqual([item.intent.id]);
    calls[0]!.settle();
    await expect(answer).resolves.toMatchObject({ ok: true, outcome: { kind: 'committed' } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('groups what arrives in one turn of the event loop into one transaction', async () => {
    const { kv, calls } = scriptedKv();
    const batcher = make(kv);
    const items = [pending(), pending(), pending()];
    for (const item of items) void batcher.submit(item);
    await nextTurn();
    expect(calls.map((c) => ids(c.batch))).toEqual([ids(items)]);
  });

  it('accumulates while a transaction is in flight and sends the rest when it returns', async () => {
    const { kv, send, calls } = scriptedKv();
    const batcher = make(kv, { maxInFlight: 1 });
    const first = pending();
    const firstAnswer = batcher.submit(first);
    await nextTurn();
    const later = [pending(), pending(), pending()];
    const laterAnswers = later.map((item) => batcher.submit(item));
    await nextTurn();
    expect(send).toHaveBeenCalledTimes(1);
    calls[0]!.settle();
    await firstAnswer;
    await nextTurn();
    expect(send).toHaveBeenCalledTimes(2);
    expect(ids(calls[1]!.batch)).toEqual(ids(later));
    calls[1]!.settle();
    const answers = await Promise.all(laterAnswers);
    answers.forEach((a, i) => {
      expect(a).toMatchObject({ ok: true, outcome: { payment: { id: later[i]!.intent.id } } });
    });
  });

  it('closes a batch by the window while another transaction is in flight', async () => {
    const { kv, send, calls } = scriptedKv();
    const batcher = make(kv, { maxInFlight: 2, windowMs: 5 });
    void batcher.submit(pending());
    await nextTurn();
    const pair = [pending(), pending()];
    for (const item of pair) void batcher.submit(item);
    await nextTurn();
    expect(send).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(4);
    expect(send).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(send).toHaveBeenCalledTimes(2);
    expect(ids(calls[1]!.batch)).toEqual(ids(pair));
  });

  it('closes a batch at the size limit, without waiting for the window', async () => {
    const { kv, calls } = scriptedKv();
    const batcher = make(kv, { maxInFlight: 3, maxBatchSize: 2 });
    void batcher.submit(pending());
    await nextTurn();
    for (let i = 0; i < 5; i++) void batcher.submit(pending());
    await nextTurn();
    // one in flight already, two full batches of 2 fill the other slots; the fifth waits.
    expect(calls.map((c) => c.batch.length)).toEqual([1, 2, 2]);
    calls[0]!.settle();
    await nextTurn();
    expect(calls.map((c) => c.batch.length)).toEqual([1, 2, 2, 1]);
  });

  it('keeps a batch within etcd --max-txn-ops (N payments need N + 3 ops) and within the byte budget', () => {
    const { kv } = scriptedKv();
    expect(make(kv, { maxTxnOps: 20, maxBatchSize: 256 }).maxBatchSize).toBe(17);
    expect(make(kv, { maxTxnOps: 100_000, maxBatchSize: 5000 }).maxBatchSize).toBe(1000);
  });

  it('splits a batch by bytes', async () => {
    const { kv, calls } = scriptedKv();
    const batcher = make(kv, { maxInFlight: 1, maxBatchBytes: 1000 });
    for (let i = 0; i < 5; i++) void batcher.submit(pending());
    await nextTurn();
    expect(calls[0]!.batch.length).toBeLessThan(5);
    expect(calls[0]!.batch.length).toBeGreaterThan(0);
  });

  it('splits and retries a batch that etcd refuses as too large, answering everyone', async () => {
    vi.useRealTimers();
    const tooMany = new GRPCInvalidArgumentError(
      '3 INVALID_ARGUMENT: etcdserver: too many operations in txn request',
    );
    const { kv, sent: sentBatches } = answeringKv((batch) => (batch.length > 2 ? tooMany : undefined));
    const batcher = new CommitBatcher({ kv, keys }, { maxInFlight: 1 });
    const items = Array.from({ length: 7 }, pending);
    const answers = await Promise.all(items.map((item) => batcher.submit(item)));
    answers.forEach((a, i) => {
      expect(a).toMatchObject({
        ok: true,
        outcome: { kind: 'committed', payment: { id: items[i]!.intent.id } },
      });
    });
    const sent = sentBatches.filter((b) => b.length <= 2);
    expect(sent.flat().map((p) => p.intent.id)).toEqual(ids(items));
    expect(batcher.stats.splits).toBeGreaterThan(0);
  });

  it('fails alone a single payment that etcd still refuses, and commits the others', async () => {
    vi.useRealTimers();
    const bad = pending();
    const tooLarge = new GRPCInvalidArgumentError('3 INVALID_ARGUMENT: etcdserver: request is too large');
    const { kv } = answeringKv((batch) => (batch.includes(bad) ? tooLarge : undefined));
    const batcher = new CommitBatcher({ kv, keys });
    const items = [pending(), bad, pending(), pending()];
    const answers = await Promise.all(items.map((item) => batcher.submit(item)));
    expect(answers.map((a) => a.ok)).toEqual([true, false, true, true]);
    expect(answers[1]).toEqual({ ok: false, error: tooLarge });
  });

  it('fails every payment of a batch with the transport error when the transaction fails', async () => {
    const { kv, send, calls } = scriptedKv();
    const batcher = make(kv);
    const answers = [pending(), pending()].map((item) => batcher.submit(item));
    await nextTurn();
    const down = new GRPCUnavailableError('14 UNAVAILABLE: no connection');
    calls[0]!.fail(down);
    expect(await Promise.all(answers)).toEqual([
      { ok: false, error: down },
      { ok: false, error: down },
    ]);
    expect(send).toHaveBeenCalledTimes(1);
  });
});
