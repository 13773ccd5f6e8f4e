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
 * The watch here is a plain etcd3 prefix watch started after the initial load's revision; ledger/
 * may not import coordination/'s resilient watch, so on a watch error the cache just reloads.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { bucketOf, decodeLevel, mayContain, type SummaryLevel } from '../archive/archived-ids';
import { boundedEtcdCall } from './bounded-etcd-call';
import type { CommitGuard } from './commit-transaction';
import { type KeyLayout, prefixEnd } from './key-layout';

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

export class ArchivedIdCache {
  private readonly client: Etcd3;
  private readonly keys: KeyLayout;
  private readonly deadlineMs: number;
  private readonly buckets = new Map<number, BucketCopy>();
  private watcher: Watcher | undefined;
  private loading: Promise<void> | undefined;
  private closed = false;

  /** `deadlineMs` bounds each read a request waits for, as EtcdLedger's operation deadline. Default 5000. */
  constructor(client: Etcd3, keys: KeyLayout, deadlineMs = 5000) {
    this.client = client;
    this.keys = keys;
    this.deadlineMs = deadlineMs;
  }

  /** Bounded in time, and etcd failures turned into QuorumUnavailableError (503), as the ledger's reads. */
  private bounded<T>(what: string, operation: Promise<T>): Promise<T> {
    return boundedEtcdCall(what, operation, this.deadlineMs);
  }

  /** Loads every bucket and starts the watch; resolves once loaded. Safe to call again. */
  start(): Promise<void> {
    this.loading ??= this.load().catch((error) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  /** The check for one id against this host's copy (loads it first if needed). */
  async check(id: string): Promise<ArchivedIdCheck> {
    await this.bounded('archived-id summary load', this.start());
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

  close(): void {
    this.closed = true;
    void this.watcher?.cancel();
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

  private async load(): Promise<void> {
    const prefix = this.keys.archivedIdsPrefix();
    const first = await this.client.kv.range({
      key: Buffer.from(prefix),
      range_end: prefixEnd(prefix),
      keys_only: true,
    });
    const revision = first.header.revision;
    const buckets = new Set(first.kvs.map((kv) => this.bucketOfKey(kv.key.toString())));
    for (const bucket of buckets) await this.reloadBucket(bucket);
    if (this.closed) return;
    this.watcher = await this.client
      .watch()
      .prefix(prefix)
      .startRevision(String(BigInt(revision) + 1n))
      .create();
    // Applied as they come, a whole response at once: a txn's level puts come before its version key's.
    this.watcher.on('data', (response) => {
      for (const event of response.events) if (event.type === 'Put') this.apply(event.kv);
    });
    this.watcher.on('error', () => {
      // Reload from scratch (the commit guard keeps this safe meanwhile).
      void this.watcher?.cancel();
      this.watcher = undefined;
      this.loading = undefined;
      if (!this.closed) void this.start().catch(() => undefined);
    });
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
