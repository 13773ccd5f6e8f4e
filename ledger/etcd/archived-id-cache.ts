/**
 * A host's copy of the archived-id summary (ledger/archive/archived-ids.ts), kept current by a
 * watch on its etcd prefix, and the checks the tiered ledger (ledger/tiered-ledger.ts) makes with it.
 *
 * The copy may lag etcd by the watch's delay; correctness never rests on it being current:
 *  - a commit carries the mod_revision of the bucket version key it checked (`CommitGuard`), and
 *    its transaction is refused if an archival rewrote that bucket since;
 *  - a read that missed in etcd first confirms the bucket's version with a linearizable read
 *    (`confirm`), and reloads the bucket when it moved.
 *
 * The copy is a ResilientWatch view (ledger/etcd/resilient-watch.ts, watch `archived-ids`): listed
 * keys only (the filters can outgrow one range response) and read bucket by bucket, then watched
 * from the listing's revision; a watch that ends (e.g. its revision compacted) is logged, counted
 * and rebuilt from a fresh listing, and `viewStale()` says so meanwhile, for /ready.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import { bucketOf, decodeLevel, mayContain, type SummaryLevel } from '../archive/archived-ids';
import { boundedEtcdCall } from './bounded-etcd-call';
import type { CommitGuard } from './commit-transaction';
import { type KeyLayout, prefixEnd } from './key-layout';
import { ResilientWatch } from './resilient-watch';

interface BucketCopy {
  /** mod_revision of the bucket's version key; '0' while the bucket was never written. */
  modRevision: string;
  levels: SummaryLevel[];
}

export interface ArchivedIdCheck {
  /** False: surely never archived. True: look it up in the archive. */
  mayBeArchived: boolean;
  guard: CommitGuard;
}

export interface ArchivedIdCacheOptions {
  /** Bounds each read a request waits for, ms, as EtcdLedger's operation deadline. Default 5000. */
  deadlineMs?: number;
  /** Pause before listing again after a failed listing or watch, ms. Default 500. */
  retryDelayMs?: number;
  /** Called when the summary's watch is rebuilt after a failure, as `('archived-ids', reason)` (for metrics). */
  onWatchRestart?: (watch: string, reason: string) => void;
  log?: (event: Record<string, unknown>) => void;
}

export class ArchivedIdCache {
  private readonly client: Etcd3;
  private readonly keys: KeyLayout;
  private readonly deadlineMs: number;
  private readonly buckets = new Map<number, BucketCopy>();
  private readonly watch: ResilientWatch;
  private started = false;
  /** Resolved once the first listing is loaded. */
  private readonly loaded: Promise<void>;
  private markLoaded: () => void = () => {};
  /** Whether `loaded` has resolved: checked synchronously on the commit path. */
  private isLoaded = false;

  constructor(
    client: Etcd3,
    keys: KeyLayout,
    { deadlineMs = 5000, retryDelayMs, onWatchRestart, log }: ArchivedIdCacheOptions = {},
  ) {
    this.client = client;
    this.keys = keys;
    this.deadlineMs = deadlineMs;
    this.loaded = new Promise((resolve) => {
      this.markLoaded = () => {
        this.isLoaded = true;
        resolve();
      };
    });
    this.watch = new ResilientWatch({
      client,
      prefix: keys.archivedIdsPrefix(),
      name: 'archived-ids',
      keysOnly: true,
      retryDelayMs,
      // No periodic re-list: a snapshot reloads every bucket's filters, and this view needs no
      // safety net: commits compare the summary's revision in their transaction, and a read that
      // misses confirms its bucket with a linearizable read (confirmedCheck).
      resyncIntervalMs: 0,
      onRestart: onWatchRestart,
      log,
      onSnapshot: (kvs) => this.loadSnapshot(kvs),
      // In etcd's order: a txn's level puts come before its version key's.
      onPut: (kv) => this.apply(kv),
    });
  }

  /** Bounded in time, and etcd failures turned into QuorumUnavailableError (503), as the ledger's reads. */
  private bounded<T>(what: string, operation: Promise<T>): Promise<T> {
    return boundedEtcdCall(what, operation, this.deadlineMs);
  }

  /**
   * Starts listing and watching (in the background, retried until etcd answers); resolves once
   * the first listing is loaded. Safe to call again.
   */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.watch.start();
    }
    return this.loaded;
  }

  /** True while this copy may miss summary changes: before the first load, and while its watch is down or rebuilt. */
  viewStale(): boolean {
    return this.watch.stale();
  }

  /** The check for one id against this host's copy (loads it first if needed). */
  async check(id: string): Promise<ArchivedIdCheck> {
    // Once loaded, no deadline to arm: every commit passes here, and a deadline costs an
    // AbortController, a timer and a race per payment (docs/performance.md).
    if (!this.isLoaded) await this.bounded('archived-id summary load', this.start());
    return this.checkBucket(bucketOf(id), id);
  }

  /**
   * The same check, after confirming with a linearizable read that this host's copy of the bucket
   * is current (reloading it when not): for reads that missed in etcd and commits that were refused.
   */
  confirmedCheck(id: string): Promise<ArchivedIdCheck> {
    return this.bounded('archived-id summary read', this.readConfirmed(id));
  }

  private async readConfirmed(id: string): Promise<ArchivedIdCheck> {
    await this.start();
    const bucket = bucketOf(id);
    const response = await this.client.kv.range({
      key: Buffer.from(this.keys.archivedIdsBucket(bucket)),
      keys_only: true,
    });
    const current = response.kvs[0]?.mod_revision ?? '0';
    if (current !== (this.buckets.get(bucket)?.modRevision ?? '0')) await this.reloadBucket(bucket);
    return this.checkBucket(bucket, id);
  }

  /** The archive's high-water mark: every payment up to this sequence is archived. 0 for none. */
  async archivedThrough(): Promise<number> {
    const read = this.client.kv.range({ key: Buffer.from(this.keys.archivedThrough()) });
    const response = await this.bounded('archive mark read', read);
    const kv = response.kvs[0];
    return kv ? (JSON.parse(kv.value.toString()) as { sequence: number }).sequence : 0;
  }

  /** Levels currently stored for one bucket, straight from etcd (the archiver's read). */
  async readBucket(bucket: number): Promise<BucketCopy> {
    const versionKey = this.keys.archivedIdsBucket(bucket);
    const response = await this.client.kv.range({
      key: Buffer.from(versionKey),
      range_end: prefixEnd(`${versionKey}/`),
    });
    let modRevision = '0';
    const levels: SummaryLevel[] = [];
    for (const kv of response.kvs) {
      const key = kv.key.toString();
      if (key === versionKey) modRevision = kv.mod_revision;
      else levels[Number(key.slice(versionKey.length + 1))] = decodeLevel(kv.value);
    }
    return { modRevision, levels };
  }

  /**
   * What the archiver needs to add ids to a bucket: its level count and total ids (from the
   * version key) and its last level, the only one that may still change; earlier levels are left
   * as holes in `levels`, so an archival reads and rewrites at most one level per bucket.
   */
  async readBucketTail(bucket: number): Promise<{ levels: SummaryLevel[]; ids: number }> {
    const version = await this.client.kv.range({ key: Buffer.from(this.keys.archivedIdsBucket(bucket)) });
    const stored = version.kvs[0];
    if (!stored) return { levels: [], ids: 0 };
    const { levels: count, ids } = JSON.parse(stored.value.toString()) as { levels: number; ids: number };
    const levels = new Array<SummaryLevel>(count);
    const last = await this.client.kv.range({
      key: Buffer.from(this.keys.archivedIdsLevel(bucket, count - 1)),
    });
    if (last.kvs[0]) levels[count - 1] = decodeLevel(last.kvs[0].value);
    return { levels, ids };
  }

  /** Archived ids this host knows of, summed over the levels (for metrics). */
  knownIds(): number {
    let ids = 0;
    for (const { levels } of this.buckets.values()) for (const level of levels) ids += level.ids;
    return ids;
  }

  /** Bytes of filters this host holds. */
  bytes(): number {
    let bytes = 0;
    for (const { levels } of this.buckets.values())
      for (const level of levels) bytes += level.filter.buckets.byteLength;
    return bytes;
  }

  close(): Promise<void> {
    return this.watch.close();
  }

  private checkBucket(bucket: number, id: string): ArchivedIdCheck {
    const copy = this.buckets.get(bucket);
    return {
      mayBeArchived: copy !== undefined && mayContain(copy.levels, id),
      guard: { key: this.keys.archivedIdsBucket(bucket), modRevision: copy?.modRevision ?? '0' },
    };
  }

  private async reloadBucket(bucket: number): Promise<void> {
    const copy = await this.readBucket(bucket);
    const held = this.buckets.get(bucket);
    // A watch event may have brought a newer copy meanwhile: keep the newer.
    if (!held || BigInt(copy.modRevision) >= BigInt(held.modRevision)) this.buckets.set(bucket, copy);
  }

  /** A listing (keys only) from the watch: read each bucket it names, and drop the ones it does not. */
  private async loadSnapshot(kvs: IKeyValue[]): Promise<void> {
    const listed = new Set(kvs.map((kv) => this.bucketOfKey(kv.key.toString())));
    for (const bucket of listed) await this.reloadBucket(bucket);
    for (const bucket of this.buckets.keys()) if (!listed.has(bucket)) this.buckets.delete(bucket);
    this.markLoaded();
  }

  /** One put of the summary, from the watch: a level replaces its copy, a version key moves the revision. */
  private apply(kv: IKeyValue): void {
    const [bucketText, levelText] = kv.key.toString().slice(this.keys.archivedIdsPrefix().length).split('/');
    const bucket = Number(bucketText);
    let copy = this.buckets.get(bucket);
    if (!copy) {
      copy = { modRevision: '0', levels: [] };
      this.buckets.set(bucket, copy);
    }
    if (levelText === undefined) {
      if (BigInt(kv.mod_revision) > BigInt(copy.modRevision)) copy.modRevision = kv.mod_revision;
    } else {
      copy.levels[Number(levelText)] = decodeLevel(kv.value);
    }
  }

  private bucketOfKey(key: string): number {
    return Number(key.slice(this.keys.archivedIdsPrefix().length).split('/')[0]);
  }
}
