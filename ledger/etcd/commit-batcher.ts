/**
 * Group commit: gathers the payments a host commits concurrently into one etcd transaction and
 * sends it itself (ledger/etcd/commit-transaction.ts), so Raft replicates and fsyncs once for many
 * payments. EtcdLedger only submits; nothing here calls back up the commit path.
 *
 * Adaptive, so it adds no latency at low load:
 *  - when no transaction is in flight, what is queued is sent at once (on the next turn of the
 *    event loop, `setImmediate`, so requests read in the same I/O phase still share a txn);
 *  - while transactions are in flight, payments accumulate; a batch closes when it reaches
 *    `maxBatchSize` items or `maxBatchBytes`, when `windowMs` has passed, or when a transaction
 *    returns and leaves a slot free; at most `maxInFlight` transactions are outstanding.
 *
 * Every submitted payment gets its own answer. A batch etcd refuses as a whole (too many
 * operations, request too large) is split in halves and retried, down to single payments; a
 * single payment etcd still refuses fails alone with that error. Any other failure of the
 * transaction (no quorum, deadline) fails every payment of that batch with the error, and each
 * client retries with its own id, which the ledger deduplicates (per payer).
 */
import { GRPCInvalidArgumentError, GRPCResourceExhastedError } from 'etcd3';
import { OverloadedError } from '../errors';
import { type CommitResult, commitBatch, type PendingCommit, type TxnKv } from './commit-transaction';
import type { KeyLayout } from './key-layout';
import { SLOTS_PER_REVISION } from './sequence';

/**
 * Default bound on queued payments. A queued payment waits about queued ÷ throughput: at the
 * 80-630 payments/s a host committed on a shared 2-core machine (docs/performance.md, "Overload"),
 * 512 is 0.8-6 s, about the ledger's 5 s operation deadline. The former 10,000 meant 16-125 s:
 * those payments were answered 503 at the deadline while still queued, and committed later
 * (safe, by id, but a wasted answer each). Hosts bound requests in progress (128) below this.
 */
export const DEFAULT_MAX_QUEUED = 512;

/** Where the batcher commits: the etcd key-value client and the ledger's key layout. */
export interface CommitTarget {
  /** `client.kv` of a client from coordination/etcd/etcd-client.ts. */
  kv: TxnKv;
  keys: KeyLayout;
}

/** How the batcher groups payments; every field has a default. */
export interface CommitBatcherOptions {
  /** Most payments in one transaction. Default 256; capped at SLOTS_PER_REVISION and by `maxTxnOps`. */
  maxBatchSize?: number;
  /**
   * etcd's --max-txn-ops. etcd 3.4 counts the outer txn's N branches and lets each nested txn use
   * what is left, so N payments of 3 puts each need N + 3 ≤ maxTxnOps. Default 2048 (our launcher's).
   */
  maxTxnOps?: number;
  /** Estimated request bytes per batch; stays under etcd's --max-request-bytes (1.5 MiB). Default 1 MiB. */
  maxBatchBytes?: number;
  /** Longest a payment waits for companions while other transactions are in flight, ms. Default 2. */
  windowMs?: number;
  /** Most transactions outstanding at once from this host. Default 4. */
  maxInFlight?: number;
  /**
   * Most payments waiting for a transaction. Past it a payment is refused at once with
   * OverloadedError (503 + Retry-After) instead of queueing without limit while etcd is slow or
   * down: memory stays bounded, and the client retries, safely, with the same id. Default
   * DEFAULT_MAX_QUEUED (512).
   */
  maxQueued?: number;
  /** Told about every transaction sent and every payment refused, for metrics. Default none. */
  observer?: CommitObserver;
}

export interface CommitObserver {
  /** One transaction of `size` payments took `seconds`, whatever its outcome. */
  onTransaction?(size: number, seconds: number): void;
  /** One payment was refused because the queue was full. */
  onShed?(): void;
}

interface Waiter {
  item: PendingCommit;
  bytes: number;
  resolve: (result: CommitResult) => void;
}

/** Etcd refused the request as a whole before it reached Raft: nothing of it was written. */
export function isBatchRejection(error: unknown): boolean {
  if (error instanceof GRPCResourceExhastedError) return true;
  return (
    error instanceof GRPCInvalidArgumentError &&
    /too many operations|request is too large|larger than max/.test(error.message)
  );
}

/**
 * Rough request size of one payment: its record (id, payer and payee in the JSON), the record key
 * (id, payer) and two index keys (account, id, payer), as laid out in ledger/etcd/key-layout.ts.
 */
export function estimateBytes(item: PendingCommit): number {
  const i = item.intent;
  let metadata = 0;
  if (i.metadata) for (const k in i.metadata) metadata += k.length + (i.metadata[k]?.length ?? 0) + 6;
  return (
    400 + 4 * i.id.length + 5 * i.payer.length + 2 * i.payee.length + (i.description?.length ?? 0) + metadata
  );
}

export class CommitBatcher {
  private readonly kv: TxnKv;
  private readonly keys: KeyLayout;
  readonly maxBatchSize: number;
  private readonly maxBatchBytes: number;
  private readonly windowMs: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly observer: CommitObserver;
  private queue: Waiter[] = [];
  private queuedBytes = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushQueued = false;
  /** Batches sent and payments in them, for the bench's batch-size figure. */
  readonly stats = { batches: 0, items: 0, splits: 0 };

  constructor(
    { kv, keys }: CommitTarget,
    {
      maxBatchSize = 256,
      maxTxnOps = 2048,
      maxBatchBytes = 1024 * 1024,
      windowMs = 2,
      maxInFlight = 4,
      maxQueued = DEFAULT_MAX_QUEUED,
      observer = {},
    }: CommitBatcherOptions = {},
  ) {
    this.kv = kv;
    this.keys = keys;
    this.maxBatchSize = Math.max(1, Math.min(maxBatchSize, SLOTS_PER_REVISION, maxTxnOps - 3));
    this.maxBatchBytes = maxBatchBytes;
    this.windowMs = windowMs;
    this.maxInFlight = Math.max(1, maxInFlight);
    this.maxQueued = Math.max(1, maxQueued);
    this.observer = observer;
  }

  /** Payments waiting for a transaction now. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues one payment; resolves with its own result, never rejects. */
  submit(item: PendingCommit): Promise<CommitResult> {
    if (this.queue.length >= this.maxQueued) {
      this.observer.onShed?.();
      return Promise.resolve({ ok: false, error: new OverloadedError(this.queue.length) });
    }
    return new Promise((resolve) => {
      const bytes = estimateBytes(item);
      this.queue.push({ item, bytes, resolve });
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /** Decides when the queue goes out; see the header for the policy. */
  private schedule(): void {
    if (this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    if (
      this.queue.length >= this.maxBatchSize ||
      this.queuedBytes >= this.maxBatchBytes ||
      this.inFlight === 0
    ) {
      // Idle, or a batch is full: go on the next turn of the loop, without waiting for the window.
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.windowMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        // A slot is free: what gathered meanwhile goes now (classic group commit).
        if (this.queue.length > 0) this.flush();
      });
      // Send more than one batch at once only when the next one is already full.
      if (this.queue.length < this.maxBatchSize && this.queuedBytes < this.maxBatchBytes) break;
    }
    this.schedule();
  }

  private takeBatch(): Waiter[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxBatchSize) {
      const next = this.queue[count]!.bytes;
      if (count > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      count += 1;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, count);
  }

  /** Sends one batch and answers each waiter; splits a batch etcd refused as a whole. */
  private async commit(batch: Waiter[]): Promise<void> {
    this.stats.batches += 1;
    this.stats.items += batch.length;
    const started = performance.now();
    try {
      const results = await commitBatch(
        this.kv,
        this.keys,
        batch.map((w) => w.item),
      );
      this.observer.onTransaction?.(batch.length, (performance.now() - started) / 1000);
      batch.forEach((w, i) => {
        w.resolve(results[i] ?? { ok: false, error: new Error(`no result for payment ${w.item.intent.id}`) });
      });
    } catch (error) {
      this.observer.onTransaction?.(batch.length, (performance.now() - started) / 1000);
      if (isBatchRejection(error) && batch.length > 1) {
        this.stats.splits += 1;
        const half = Math.ceil(batch.length / 2);
        await this.commit(batch.slice(0, half));
        await this.commit(batch.slice(half));
        return;
      }
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const w of batch) w.resolve({ ok: false, error: failure });
    }
  }
}
