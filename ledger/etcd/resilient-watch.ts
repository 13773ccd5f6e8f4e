/**
 * A cached view of one etcd key prefix that survives every way a watch can end: list the prefix,
 * then watch it from the list's revision + 1; when the watch fails for any reason, list again and
 * watch again from the new list's revision. Every etcd watch in the system goes through here, so
 * a watch added later gets the same recovery. It lives in ledger/etcd/, the bottom layer, so that
 * ledger/ (the archived-id cache) and coordination/ (membership, election) share it.
 *
 * Why it is needed: etcd3's Watcher reconnects on its own after a broken stream and resumes from
 * the revision after the last event it saw. When that revision has been compacted meanwhile
 * (`etcdctl compact`, or the leader's maintenance), etcd cancels the watch ("required revision has
 * been compacted") and etcd3 emits `error` on the watcher and drops it for good. A view that does
 * not listen for that error freezes silently (issue 15 §2: a dead host listed as alive, a leader
 * that no longer knew it led). This is the Go client's advice for ErrCompacted: get the current
 * state again and watch from its revision (etcd clientv3 `watch.go`, WatchResponse.CompactRevision).
 *
 * The view may be stale from the moment the stream breaks until events flow again (etcd3 resumed
 * the watch, or a fresh list was applied); `stale()` says so, and /ready reports it.
 *
 * Anti-entropy: every `resyncIntervalMs` the prefix is listed again and handed to onSnapshot, even
 * while the watch looks healthy. etcd3 resumes a broken stream by itself from the revision after
 * the last event it saw; should it ever resume from a later one, the view would miss an event with
 * no error to say so (a dead host listed alive until its key changes again). The periodic list
 * bounds any such miss to one interval. Events the watch delivers while a list is in flight are
 * held back and replayed after it, keeping only those newer than the listing (mod_revision >
 * listing revision), so a resync never rolls the view back nor drops a newer change.
 */
import { type Etcd3, type IKeyValue, Range, type Watcher } from 'etcd3';

export interface ResilientWatchHandlers {
  /**
   * The whole prefix as listed at `revision`: replace the view with it. Awaited before the watch
   * starts; a rejection counts as a failed list (logged, listed again after `retryDelayMs`).
   */
  onSnapshot(kvs: IKeyValue[], revision: string): void | Promise<void>;
  onPut?(kv: IKeyValue): void;
  onDelete?(kv: IKeyValue): void;
}

export interface ResilientWatchOptions extends ResilientWatchHandlers {
  client: Etcd3;
  /** Key prefix to list and watch. */
  prefix: string;
  /** Name in logs and in the `etcd_watch_restarts_total{watch}` metric, e.g. `membership`. */
  name: string;
  /**
   * List keys without their values, for a view too large for one range response: onSnapshot then
   * reads the values it needs itself (events after `revision` are replayed by the watch). Default false.
   */
  keysOnly?: boolean;
  /** Pause before listing again after a failed list or watch creation, ms. Default 500. */
  retryDelayMs?: number;
  /**
   * Re-list the prefix this often while the watch is live (anti-entropy, see the header), ms.
   * 0 turns it off, for a view with its own confirmation read. Default 30,000.
   */
  resyncIntervalMs?: number;
  /** Called each time the watch is rebuilt after a failure, with the reason (for metrics). */
  onRestart?: (name: string, reason: string) => void;
  log?: (event: Record<string, unknown>) => void;
}

export class ResilientWatch {
  private readonly options: Required<Omit<ResilientWatchOptions, 'onPut' | 'onDelete'>> &
    ResilientWatchHandlers;
  private watcher: Watcher | undefined;
  /** The watcher whose failure restarts the view: set once it is connected. */
  private live: Watcher | undefined;
  private closed = false;
  private isStale = true;
  private restarting = false;
  /** Events held back while a resync's list is in flight; undefined when none is. */
  private heldBack: Array<{ type: 'put' | 'delete'; kv: IKeyValue }> | undefined;
  /** Revision of the last applied listing: watch events at or below it are already in the view. */
  private floorRevision = 0n;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor({
    retryDelayMs = 500,
    resyncIntervalMs = 30_000,
    keysOnly = false,
    onRestart = () => {},
    log = () => {},
    ...rest
  }: ResilientWatchOptions) {
    this.options = { retryDelayMs, resyncIntervalMs, keysOnly, onRestart, log, ...rest };
  }

  /** Lists and starts watching in the background. */
  start(): void {
    void this.listAndWatch();
    if (this.options.resyncIntervalMs > 0) {
      this.resyncTimer = setInterval(() => void this.resync(), this.options.resyncIntervalMs);
      this.resyncTimer.unref();
    }
  }

  /** True while the view may miss changes: before the first list, and from a failure until recovery. */
  stale(): boolean {
    return this.isStale;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.resyncTimer);
    await this.watcher?.cancel().catch(() => undefined);
  }

  /** Lists the prefix and watches from the list's revision + 1, retrying until it holds or close(). */
  private async listAndWatch(): Promise<void> {
    const { client, prefix, name, retryDelayMs, keysOnly, log } = this.options;
    const range = Range.prefix(prefix);
    while (!this.closed) {
      let watcher: Watcher | undefined;
      try {
        const listing = await client.kv.range({
          key: range.start,
          range_end: range.end,
          keys_only: keysOnly,
        });
        if (this.closed) return;
        await this.options.onSnapshot(listing.kvs, listing.header.revision);
        this.floorRevision = BigInt(listing.header.revision);
        if (this.closed) return;
        const next = String(BigInt(listing.header.revision) + 1n);
        watcher = client.watch().prefix(prefix).startRevision(next).watcher();
        this.watcher = watcher;
        this.attach(watcher);
        await new Promise<void>((resolve, reject) => {
          watcher!.once('connected', () => resolve());
          watcher!.once('error', reject);
        });
        if (this.closed) return void (await watcher.cancel().catch(() => undefined));
        this.live = watcher;
        this.isStale = false;
        return;
      } catch (error) {
        // A watcher that emitted `error` is already detached by etcd3; cancelling it again makes
        // etcd answer for a watch id etcd3 no longer knows, which etcd3 throws on (uncaught).
        log({
          level: 'warn',
          msg: 'etcd watch could not start; listing again',
          watch: name,
          error: String(error),
        });
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  }

  /**
   * Lists the prefix while the watch is live and applies it as a snapshot (anti-entropy). Skipped
   * while the view is being rebuilt, which lists anyway. A failed list is logged and left to the
   * next interval: the watch itself is still running.
   */
  private async resync(): Promise<void> {
    if (this.closed || this.restarting || !this.live || this.heldBack) return;
    const { client, prefix, name, keysOnly, log } = this.options;
    const range = Range.prefix(prefix);
    this.heldBack = [];
    try {
      const listing = await client.kv.range({
        key: range.start,
        range_end: range.end,
        keys_only: keysOnly,
      });
      if (this.closed || this.restarting) return;
      await this.options.onSnapshot(listing.kvs, listing.header.revision);
      this.floorRevision = BigInt(listing.header.revision);
    } catch (error) {
      log({ level: 'warn', msg: 'etcd watch resync failed', watch: name, error: String(error) });
    } finally {
      const held = this.heldBack;
      this.heldBack = undefined;
      for (const event of held) this.deliver(event.type, event.kv);
    }
  }

  /** Applies one watch event unless a listing already holds it (see the header). */
  private deliver(type: 'put' | 'delete', kv: IKeyValue): void {
    if (this.heldBack) {
      this.heldBack.push({ type, kv });
      return;
    }
    if (BigInt(kv.mod_revision) <= this.floorRevision) return;
    if (type === 'put') this.options.onPut?.(kv);
    else this.options.onDelete?.(kv);
  }

  private attach(watcher: Watcher): void {
    watcher.on('put', (kv) => this.deliver('put', kv));
    watcher.on('delete', (kv) => this.deliver('delete', kv));
    // etcd3 resumes a broken stream by itself; until it has, changes may be missed.
    watcher.on('disconnected', () => {
      if (this.watcher === watcher) this.isStale = true;
    });
    watcher.on('connected', () => {
      if (this.watcher === watcher && !this.restarting) this.isStale = false;
    });
    // Any error ends this watcher for good (compacted resume revision, cancellation by etcd,
    // permission): rebuild the view from a fresh list.
    watcher.on('error', (error: Error) => {
      if (this.live === watcher) void this.restart(error);
    });
  }

  private async restart(error: Error): Promise<void> {
    if (this.closed || this.restarting) return;
    this.restarting = true;
    this.live = undefined;
    this.isStale = true;
    const reason = watchEndReason(error);
    this.options.log({
      level: 'warn',
      msg: 'etcd watch ended; listing again and watching from the new revision',
      watch: this.options.name,
      reason,
      error: error.message,
    });
    this.options.onRestart(this.options.name, reason);
    try {
      await this.listAndWatch();
    } finally {
      this.restarting = false;
    }
  }
}

/**
 * Why etcd ended a watch, for logs and metrics. etcd 3.4 cancels a watch whose start revision was
 * compacted with an empty cancel reason (the compact revision is a separate field etcd3 drops), so
 * an unexplained cancellation is, in practice, a compaction.
 */
export function watchEndReason(error: unknown): 'compacted' | 'canceled' | 'error' {
  const message = error instanceof Error ? error.message : String(error);
  if (/compact/i.test(message)) return 'compacted';
  return /Watcher canceled/i.test(message) ? 'canceled' : 'error';
}
