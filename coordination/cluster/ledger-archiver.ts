/**
 * The leader's archival duty (issue 14, item 2): moves payments older than the hot window from
 * etcd to the archive (ledger/archive/), in commit order, so etcd holds a bounded hot window.
 *
 * A pass scans for the keys of the oldest records (by create revision, keys only), then takes
 * them in steps of whole revisions:
 *  1. read the step's records and keep those, in sequence order, up to the first one still
 *     inside the hot window;
 *  2. insert them into the archive, idempotent on (payer, id), with their sequence, committedAt,
 *     hlc, host and exact JSON text; PostgreSQL confirms it on the synchronous standby too;
 *  3. raise `<root>/archive/through` to the last sequence (never lowers it), fenced: from now on
 *     history reads them from the archive (ledger/tiered-ledger.ts);
 *  4. per summary bucket, one transaction fenced on the campaign key deletes the records and both
 *     index entries and adds the ids to the bucket's Bloom filter (ledger/archive/archived-ids.ts),
 *     bumping the bucket's version: commits checked against the old version are refused and
 *     check again, so a removed id is never committed twice.
 *
 * A leader killed or deposed at any step loses nothing and duplicates nothing: a record leaves
 * etcd only after it is archived, in the same transaction as its id enters the summary; the next
 * leader finds whatever was not removed, inserts it again (a no-op) and removes it. A deposed
 * leader's removal is refused by etcd (NotLeaderError). `faults` stops a step on purpose, for tests.
 *
 * Cost: the scan is a sorted range over the whole hot window, which etcd 3.4 reads and sorts in
 * memory (it applies the limit after sorting): O(hot window) per pass, once a second, or once per
 * `maxBatchDelayMs` while the pass waits for a bigger batch (docs/storage.md).
 */
import type { Etcd3 } from 'etcd3';
import { addIds, bucketOf, encodeLevel } from '../../ledger/archive/archived-ids';
import type { PaymentArchive } from '../../ledger/archive/payment-archive';
import type { ArchivedIdCache } from '../../ledger/etcd/archived-id-cache';
import { decodeRecord } from '../../ledger/etcd/commit-transaction';
import { DEFAULT_ROOT, type KeyLayout, keyLayout, prefixEnd } from '../../ledger/etcd/key-layout';
import type { StoredPayment } from '../../ledger/payment';
import type { Clock } from '../clock/clock';
import type { LeaderElection, LeadershipTerm } from './leader-election';
import { PeriodicDuty } from './periodic-duty';

/** Where a fault hook may stop a step: after the archive insert, after the mark, after each removal txn. */
export type ArchivalStep = 'after-insert' | 'after-mark' | 'after-removal';

export interface ArchiverObserver {
  /** `count` payments left etcd (they were archived first). */
  onMoved?(count: number): void;
  /** After each pass: how far behind the hot window archival is, s (0 when caught up). */
  onLag?(seconds: number): void;
  /** A pass stopped on this error; the next one resumes. */
  onFailure?(error: unknown): void;
}

export interface LedgerArchiverOptions {
  client: Etcd3;
  election: LeaderElection;
  archive: PaymentArchive;
  /** The host's archived-id cache, for reading a bucket before it is rewritten. */
  archivedIds: ArchivedIdCache;
  clock: Clock;
  /** Payments committed less than this long ago stay in etcd, ms. */
  hotWindowMs: number;
  /** Key root. Default DEFAULT_ROOT. */
  root?: string;
  /** Pause between passes while leading, ms. Default 1000. */
  intervalMs?: number;
  /**
   * Records moved per step (whole revisions, so a step may take a few more). Default 10 000: a
   * step rewrites the last summary level (~8 KB) of every bucket it touches, once, so the bytes
   * etcd must later compact away per archived id fall as the step grows (256 buckets × 8 KB per
   * step: 2 KB per id at 1 000, 210 B at 10 000). Regression: at 1 000 a catch-up after a
   * PostgreSQL outage wrote ~2 MB of superseded levels per 1 000 ids and took a 64 MiB etcd past
   * its quota (NOSPACE), after which archival itself was refused.
   */
  batchSize?: number;
  /** Record keys one pass scans for, oldest first. Default 20 000 (two steps). */
  scanSize?: number;
  /**
   * A pass waits until this many payments are due, or until the oldest due one is `maxBatchDelayMs`
   * past the hot window, so that steady archival also moves big steps (see batchSize). Default 1:
   * no waiting. The host sets ARCHIVAL_MIN_BATCH (functions/config.ts).
   */
  minBatch?: number;
  /** See minBatch, ms. Default 0. The host sets ARCHIVAL_MAX_DELAY_MS. */
  maxBatchDelayMs?: number;
  /**
   * Why archival must not write now (etcd near its quota), or undefined when it may. Checked
   * before each step: under NOSPACE etcd refuses the summary puts of a removal, so archival must
   * stop short of the quota, not run into it. Default: always may.
   */
  holdReason?: () => string | undefined;
  /** etcd's --max-txn-ops: bounds payments per removal txn (3 deletes each). Default 128, etcd's default. */
  maxTxnOps?: number;
  /** Bytes of one removal transaction at most; under etcd's --max-request-bytes (1.5 MiB). Default 1 MiB. */
  maxTxnBytes?: number;
  /** Steps per pass at most, so one pass stays bounded. Default 50. */
  maxStepsPerPass?: number;
  observer?: ArchiverObserver;
  /** Called after each step; throwing stops the pass there, as a kill would. Tests only. */
  faults?: (step: ArchivalStep) => void | Promise<void>;
  log?: (event: Record<string, unknown>) => void;
}

export interface ArchivalReport {
  moved: number;
  through: number;
}

export class LedgerArchiver {
  private readonly o: Required<Omit<LedgerArchiverOptions, 'root' | 'faults'>> &
    Pick<LedgerArchiverOptions, 'faults'>;
  private readonly keys: KeyLayout;
  private readonly duty: PeriodicDuty;
  private passes: Promise<unknown> = Promise.resolve();
  /**
   * After a pass decided to wait for more (minBatch), no pass scans before this time (clock ms):
   * the scan costs O(hot window) (see the header), and nothing can be overdue sooner.
   */
  private quietUntil = 0;
  /** The last hold reason seen, so a hold is logged once, not every pass. */
  private lastHold: string | undefined;

  constructor({
    root = DEFAULT_ROOT,
    intervalMs = 1000,
    batchSize = 10_000,
    scanSize = 20_000,
    minBatch = 1,
    maxBatchDelayMs = 0,
    holdReason = () => undefined,
    maxTxnOps = 128,
    maxTxnBytes = 1024 * 1024,
    maxStepsPerPass = 50,
    observer = {},
    log = () => {},
    ...rest
  }: LedgerArchiverOptions) {
    this.o = {
      intervalMs,
      batchSize,
      scanSize,
      minBatch,
      maxBatchDelayMs,
      holdReason,
      maxTxnOps,
      maxTxnBytes,
      maxStepsPerPass,
      observer,
      log,
      ...rest,
    };
    this.keys = keyLayout(root);
    this.duty = new PeriodicDuty(
      intervalMs,
      () => this.runOnce(),
      (error) => {
        this.o.observer.onFailure?.(error);
        this.o.log({ level: 'warn', msg: 'archival stopped; resumes next pass', error: String(error) });
      },
    );
  }

  start(): void {
    this.duty.start();
  }

  stop(): void {
    this.duty.stop();
  }

  /**
   * One pass if this host leads (undefined otherwise); throws NotLeaderError if deposed midway.
   * Passes run one at a time: two passes rewriting one bucket's filter at once would lose ids.
   */
  runOnce(): Promise<ArchivalReport | undefined> {
    const pass = this.passes.then(() => this.pass());
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async pass(): Promise<ArchivalReport | undefined> {
    const term = this.o.election.currentTerm();
    if (!term) return undefined;
    const report: ArchivalReport = { moved: 0, through: 0 };
    if (this.o.clock.now() < this.quietUntil) return report;
    const revisions = await this.oldestRevisions();
    for (let step = 0; step < this.o.maxStepsPerPass && revisions.length > 0; step++) {
      const held = this.o.holdReason();
      if (held !== this.lastHold && held !== undefined)
        this.o.log({ level: 'warn', msg: 'archival held', reason: held });
      this.lastHold = held;
      if (held !== undefined) break;
      const { due, hotReached, lagSeconds } = await this.duePayments(this.takeStep(revisions));
      this.o.observer.onLag?.(lagSeconds);
      const waitForMore =
        step === 0 &&
        hotReached &&
        due.length < this.o.minBatch &&
        lagSeconds * 1000 < this.o.maxBatchDelayMs;
      if (waitForMore) {
        this.quietUntil = this.o.clock.now() + this.o.maxBatchDelayMs - lagSeconds * 1000;
        break;
      }
      if (due.length > 0) {
        await this.o.archive.insertMany(due);
        await this.o.faults?.('after-insert');
        report.through = await this.raiseMark(due.at(-1)!.sequence, term);
        await this.o.faults?.('after-mark');
        await this.remove(due, term);
        report.moved += due.length;
        this.o.observer.onMoved?.(due.length);
      }
      if (hotReached) break;
    }
    if (report.moved > 0) this.o.log({ level: 'info', msg: 'archived payments', ...report });
    return report;
  }

  /**
   * Record keys of the oldest payments in etcd, grouped by commit revision, oldest first. One
   * keys-only scan per pass: etcd 3.4 reads the whole hot window to sort it, so it is not repeated
   * per step. A revision cut by the limit is left out, whole, for the next pass.
   */
  private async oldestRevisions(): Promise<string[][]> {
    const prefix = this.keys.paymentsPrefix();
    const response = await this.o.client.kv.range({
      key: Buffer.from(prefix),
      range_end: prefixEnd(prefix),
      sort_target: 'Create',
      sort_order: 'Ascend',
      keys_only: true,
      limit: this.o.scanSize,
    });
    const last = response.kvs.at(-1)?.create_revision;
    const groups = new Map<string, string[]>();
    for (const kv of response.kvs) {
      if (response.more && kv.create_revision === last) continue;
      groups.set(kv.create_revision, [...(groups.get(kv.create_revision) ?? []), kv.key.toString()]);
    }
    return [...groups.values()];
  }

  /** Whole revisions off the front of `revisions`, about `batchSize` keys, never cutting one. */
  private takeStep(revisions: string[][]): string[] {
    const keys: string[] = [];
    while (
      revisions.length > 0 &&
      (keys.length === 0 || keys.length + revisions[0]!.length <= this.o.batchSize)
    )
      keys.push(...revisions.shift()!);
    return keys;
  }

  /** These records, in sequence order, up to the first one still inside the hot window. */
  private async duePayments(
    keys: string[],
  ): Promise<{ due: StoredPayment[]; hotReached: boolean; lagSeconds: number }> {
    const perTxn = Math.max(1, this.o.maxTxnOps - 1);
    const payments: StoredPayment[] = [];
    for (let i = 0; i < keys.length; i += perTxn) {
      const response = await this.o.client.kv.txn({
        success: keys.slice(i, i + perTxn).map((key) => ({ request_range: { key: Buffer.from(key) } })),
      });
      for (const op of response.responses) {
        const kv = op.response_range.kvs[0];
        if (kv) payments.push(decodeRecord(kv).payment);
      }
    }
    payments.sort((a, b) => a.sequence - b.sequence);
    const cutoff = this.o.clock.now() - this.o.hotWindowMs;
    const firstHot = payments.findIndex((p) => Date.parse(p.committedAt) >= cutoff);
    const due = firstHot === -1 ? payments : payments.slice(0, firstHot);
    const oldest = payments[0] ? Date.parse(payments[0].committedAt) : cutoff;
    return { due, hotReached: firstHot !== -1, lagSeconds: Math.max(0, (cutoff - oldest) / 1000) };
  }

  private async raiseMark(sequence: number, term: LeadershipTerm): Promise<number> {
    const current = await this.o.archivedIds.archivedThrough();
    if (sequence <= current) return current;
    await this.o.election.fencedPut(this.keys.archivedThrough(), JSON.stringify({ sequence }), term);
    return sequence;
  }

  /**
   * Removes the payments from etcd and adds their ids to the summary, in as few fenced
   * transactions as fit etcd's limits (--max-txn-ops, request bytes). A bucket appears at most
   * once per transaction, since each rewrites its last level; a bucket with more ids than one
   * transaction holds continues in the next.
   */
  private async remove(payments: StoredPayment[], term: LeadershipTerm): Promise<void> {
    const { client, election, archivedIds, maxTxnOps } = this.o;
    const perPiece = Math.max(1, Math.floor((maxTxnOps - 3) / 3));
    const byBucket = new Map<number, StoredPayment[]>();
    for (const p of payments) byBucket.set(bucketOf(p.id), [...(byBucket.get(bucketOf(p.id)) ?? []), p]);
    const pieces: { bucket: number; payments: StoredPayment[] }[] = [];
    for (const [bucket, all] of byBucket)
      for (let i = 0; i < all.length; i += perPiece)
        pieces.push({ bucket, payments: all.slice(i, i + perPiece) });
    while (pieces.length > 0) {
      const ops: Parameters<LeaderElection['fencedTxn']>[0] = [];
      // This round's candidates: the first piece of each bucket, their tails read at once.
      const candidates = pieces.filter(
        (piece, i) => pieces.findIndex((q) => q.bucket === piece.bucket) === i,
      );
      const tails = await Promise.all(candidates.map((piece) => archivedIds.readBucketTail(piece.bucket)));
      let bytes = 0;
      for (const [k, piece] of candidates.entries()) {
        const tail = tails[k]!;
        const changed = addIds(
          tail.levels,
          piece.payments.map((p) => p.id),
        ).map((level) => ({ level, bytes: encodeLevel(tail.levels[level]!) }));
        const pieceOps = 3 * piece.payments.length + changed.length + 1;
        const pieceBytes = changed.reduce((sum, c) => sum + c.bytes.length, 0) + 300 * piece.payments.length;
        if (k > 0 && (ops.length + pieceOps > maxTxnOps || bytes + pieceBytes > this.o.maxTxnBytes)) break;
        for (const p of piece.payments)
          ops.push(
            client.delete().key(this.keys.payment(p.id, p.payer)),
            client.delete().key(this.keys.accountEntry(p.payer, p.id, p.payer)),
            client.delete().key(this.keys.accountEntry(p.payee, p.id, p.payer)),
          );
        for (const c of changed)
          ops.push(client.put(this.keys.archivedIdsLevel(piece.bucket, c.level)).value(c.bytes));
        const version = { levels: tail.levels.length, ids: tail.ids + piece.payments.length };
        ops.push(client.put(this.keys.archivedIdsBucket(piece.bucket)).value(JSON.stringify(version)));
        bytes += pieceBytes;
        pieces.splice(pieces.indexOf(piece), 1);
      }
      await election.fencedTxn(ops, term);
      await this.o.faults?.('after-removal');
    }
  }
}
