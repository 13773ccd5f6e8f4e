/**
 * Where hosts ship their events: the store behind the cluster event log. One stream per host,
 * each in HLC order, plus each host's shipping mark; readers merge the streams
 * (coordination/events/event-query.ts). Implementations: etcd (etcd-event-store.ts), PostgreSQL
 * (pg-event-store.ts) and the in-memory one below, all checked by one contract suite
 * (test/contracts/event-store-contract.ts).
 */
import type { ClusterEvent, HostMark } from './event-types';

export interface EventStore {
  /**
   * Most events one `append` should carry, when the store has a limit of its own (etcd's
   * --max-txn-ops). The event log's default batch (event-log.ts) follows it. Default 100.
   */
  readonly maxBatch?: number;
  /** Stores a batch of one host's events (ascending HLC) and its new mark, atomically. */
  append(host: string, events: ClusterEvent[], mark: HostMark): Promise<void>;
  /** Every host's latest mark. */
  marks(): Promise<HostMark[]>;
  /** Up to `limit` of one host's events with HLC ≥ `fromHlc`, ascending. */
  readHost(host: string, fromHlc: string, limit: number): Promise<ClusterEvent[]>;
  /** Deletes every event with HLC < `beforeHlc`, and forgets marks older than that. */
  trimBefore(beforeHlc: string): Promise<void>;
}

export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, ClusterEvent[]>();
  private readonly hostMarks = new Map<string, HostMark>();

  async append(host: string, events: ClusterEvent[], mark: HostMark): Promise<void> {
    const stream = this.streams.get(host) ?? [];
    stream.push(...events.map((e) => structuredClone(e)));
    stream.sort((a, b) => (a.hlc < b.hlc ? -1 : a.hlc > b.hlc ? 1 : a.seq - b.seq));
    this.streams.set(host, stream);
    this.hostMarks.set(host, { ...mark });
  }

  async marks(): Promise<HostMark[]> {
    return [...this.hostMarks.values()].map((m) => ({ ...m }));
  }

  async readHost(host: string, fromHlc: string, limit: number): Promise<ClusterEvent[]> {
    return (this.streams.get(host) ?? []).filter((e) => e.hlc >= fromHlc).slice(0, limit);
  }

  async trimBefore(beforeHlc: string): Promise<void> {
    for (const [host, stream] of this.streams)
      this.streams.set(
        host,
        stream.filter((e) => e.hlc >= beforeHlc),
      );
    for (const [host, mark] of this.hostMarks) if (mark.hlc < beforeHlc) this.hostMarks.delete(host);
  }
}
