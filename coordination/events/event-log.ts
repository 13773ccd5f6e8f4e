/**
 * One host's side of the cluster event log: records events with their HLC, corrected time and
 * raw time, and ships them to the EventStore in batches.
 *
 * Events recorded before the host's clock was first corrected (a host that has just joined and
 * not yet heard from the time master) are held back, up to `holdUnsyncedMs`, and shipped with
 * their corrected time recomputed from the raw time and the correction learnt since
 * (`recorrected: true`); both values are kept. After `holdUnsyncedMs` they ship as they are.
 *
 * With each batch the host writes its mark: the HLC up to which everything it recorded is in the
 * store. Readers use the marks as the watermark of the merge (coordination/events/event-query.ts).
 * Retention: `trimBefore` deletes everything older than `retentionMs`, run every `trimIntervalMs`
 * by the hosts `shouldTrim` allows (the leader, when there is a cluster view).
 */
import type { HostClock } from '../clock/clock';
import { formatHlc, type HybridClock, hlcAt, parseHlc } from '../clock/hlc';
import type { EventStore } from './event-store';
import type { ClusterEvent, ClusterEventType, EventDetails } from './event-types';

export interface EventLogOptions {
  hostId: string;
  clock: HostClock;
  hlc: HybridClock;
  store: EventStore;
  /** Period of batch shipping, ms. Default 500. */
  flushIntervalMs?: number;
  /** Most events per append. Default the store's `maxBatch`, else 100 (under etcd's default --max-txn-ops of 128). */
  maxBatch?: number;
  /** How long events recorded before the first clock correction wait for it, ms. Default 10000. */
  holdUnsyncedMs?: number;
  /** Most events held in memory when the store is unreachable; the oldest are dropped and counted. Default 50000. */
  maxPending?: number;
  /** How long the store keeps events, ms. Default 3600000 (one hour). */
  retentionMs?: number;
  /** Period of the retention sweep, ms. Default 30000. */
  trimIntervalMs?: number;
  /** Whether this host runs the retention sweep now. Default: always. */
  shouldTrim?: () => boolean;
}

interface PendingEvent {
  seq: number;
  type: ClusterEventType;
  details: EventDetails;
  hlc: string;
  rawMs: number;
  correctedMs: number;
  /** Whether the clock had been corrected when the event was recorded. */
  synced: boolean;
}

export class EventLog {
  readonly stats = { recorded: 0, shipped: 0, dropped: 0, recorrected: 0, shipFailures: 0 };
  private readonly options: Required<EventLogOptions>;
  private pending: PendingEvent[] = [];
  private seq = 0;
  private lastHlc = '';
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor({
    flushIntervalMs = 500,
    maxBatch,
    holdUnsyncedMs = 10_000,
    maxPending = 50_000,
    retentionMs = 3_600_000,
    trimIntervalMs = 30_000,
    shouldTrim = () => true,
    ...required
  }: EventLogOptions) {
    this.options = {
      ...required,
      flushIntervalMs,
      maxBatch: maxBatch ?? required.store.maxBatch ?? 100,
      holdUnsyncedMs,
      maxPending,
      retentionMs,
      trimIntervalMs,
      shouldTrim,
    };
  }

  /**
   * Records one event now. `hlc`: the timestamp the host's HybridClock has just issued for it
   * (a receive, say); otherwise a fresh tick. Events must be recorded in HLC order, since the
   * shipping mark relies on it, so a stale `hlc` is replaced by a tick.
   */
  record(type: ClusterEventType, details: EventDetails, hlc?: string): void {
    const { clock } = this.options;
    const rawMs = clock.raw();
    const stamp = hlc !== undefined && hlc > this.lastHlc ? hlc : this.options.hlc.tick();
    this.lastHlc = stamp;
    this.pending.push({
      seq: this.seq++,
      type,
      details,
      hlc: stamp,
      rawMs,
      correctedMs: clock.now(),
      synced: clock.synced,
    });
    this.stats.recorded += 1;
    if (this.pending.length > this.options.maxPending) {
      this.pending.shift();
      this.stats.dropped += 1;
    }
  }

  start(): void {
    if (this.timers.length > 0) return;
    // A periodic flush is skipped while one is running, so a slow store cannot pile them up.
    const tick = () => (this.flushing ? undefined : void this.flush().catch(() => {}));
    this.timers.push(setInterval(tick, this.options.flushIntervalMs));
    this.timers.push(setInterval(() => void this.trim().catch(() => {}), this.options.trimIntervalMs));
  }

  /** Stops the timers and ships what it can. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.flush().catch(() => {});
  }

  /** Ships every event recorded so far that may go, in batches; flushes run one after another. */
  flush(): Promise<void> {
    const next = (this.flushing ?? Promise.resolve()).catch(() => {}).then(() => this.ship());
    this.flushing = next;
    void next
      .catch(() => {})
      .finally(() => {
        if (this.flushing === next) this.flushing = undefined;
      });
    return next;
  }

  /** Deletes events older than the retention period, if this host is the one that trims. */
  async trim(): Promise<void> {
    if (!this.options.shouldTrim()) return;
    await this.options.store.trimBefore(hlcAt(this.options.clock.now() - this.options.retentionMs));
  }

  private async ship(): Promise<void> {
    const { clock, store, hostId, maxBatch, holdUnsyncedMs } = this.options;
    for (;;) {
      const now = clock.raw();
      // Events are recorded in HLC order, so what may ship is a prefix of `pending`.
      let count = 0;
      while (
        count < Math.min(maxBatch, this.pending.length) &&
        (clock.synced || this.pending[count]!.synced || now - this.pending[count]!.rawMs >= holdUnsyncedMs)
      ) {
        count += 1;
      }
      const batch = this.pending.slice(0, count);
      const next = this.pending[count];
      const mark = { host: hostId, hlc: next ? predecessor(next.hlc) : this.idleMark(), atMs: clock.now() };
      try {
        await store.append(
          hostId,
          batch.map((e) => this.render(e)),
          mark,
        );
      } catch (error) {
        this.stats.shipFailures += 1;
        throw error;
      }
      this.pending.splice(0, count);
      this.stats.shipped += count;
      if (count < maxBatch || this.pending.length === 0) return;
    }
  }

  /**
   * With nothing left to ship, the mark can run ahead of the last event: any later event gets an
   * HLC above both the current one and the physical clock now (HLC's tick and receive rules take
   * the max with pt, and pt never decreases), so an idle host does not hold readers back.
   */
  private idleMark(): string {
    const current = this.options.hlc.current();
    const floor = predecessor(hlcAt(this.options.clock.now()));
    return current > floor ? current : floor;
  }

  private render(e: PendingEvent): ClusterEvent {
    const { clock, hostId } = this.options;
    const recorrected = !e.synced && clock.synced;
    if (recorrected) this.stats.recorrected += 1;
    const at = recorrected ? clock.correctedFor(e.rawMs) : e.correctedMs;
    return {
      host: hostId,
      seq: e.seq,
      type: e.type,
      hlc: e.hlc,
      at: new Date(at).toISOString(),
      rawAt: new Date(e.rawMs).toISOString(),
      recorrected,
      details: e.details,
    };
  }
}

/** The largest timestamp below `hlc`: a mark must not cover an event not shipped yet. */
function predecessor(hlc: string): string {
  const t = parseHlc(hlc);
  if (!t) return hlc;
  return formatHlc(t.c > 0 ? { l: t.l, c: t.c - 1 } : { l: t.l - 1, c: 99_999 });
}
