/**
 * The cluster event log on etcd (key layout in ledger/etcd/key-layout.ts):
 *
 *   <root>/events/log/<host>/<hlc>/<seq>   one event, JSON (coordination/events/event-types.ts)
 *   <root>/events/marks/<host>             the host's shipping mark, JSON HostMark
 *
 * One stream per host keeps each host's writes in its own key range, in HLC order, so a batch
 * is one transaction of puts and a read of one host is one sorted range. Retention is a
 * delete-range per host below an HLC (the HLC's physical part is a wall-clock time).
 */
import type { Etcd3 } from 'etcd3';
import { DEFAULT_ROOT, prefixEnd } from '../../ledger/etcd/key-layout';
import { type CoordinationKeys, coordinationKeys } from '../etcd/key-layout';
import type { EventStore } from './event-store';
import type { ClusterEvent, HostMark } from './event-types';

export interface EtcdEventStoreOptions {
  /** A client from coordination/etcd/etcd-client.ts. */
  client: Etcd3;
  /** Key root, shared with the ledger. Default DEFAULT_ROOT (`/pay/v2`, ledger/etcd/key-layout.ts). */
  root?: string;
}

export class EtcdEventStore implements EventStore {
  private readonly client: Etcd3;
  private readonly keys: CoordinationKeys;

  constructor({ client, root = DEFAULT_ROOT }: EtcdEventStoreOptions) {
    this.client = client;
    this.keys = coordinationKeys(root);
  }

  async append(host: string, events: ClusterEvent[], mark: HostMark): Promise<void> {
    await this.client.kv.txn({
      success: [
        ...events.map((e) => ({
          request_put: {
            key: Buffer.from(this.keys.event(host, e.hlc, e.seq)),
            value: Buffer.from(JSON.stringify(e)),
          },
        })),
        {
          request_put: {
            key: Buffer.from(this.keys.eventMark(host)),
            value: Buffer.from(JSON.stringify(mark)),
          },
        },
      ],
    });
  }

  async marks(): Promise<HostMark[]> {
    const prefix = this.keys.eventMarksPrefix();
    const response = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
    return response.kvs.map((kv) => JSON.parse(kv.value.toString()) as HostMark);
  }

  async readHost(host: string, fromHlc: string, limit: number): Promise<ClusterEvent[]> {
    const prefix = this.keys.eventsOfHost(host);
    const response = await this.client.kv.range({
      key: Buffer.from(`${prefix}${fromHlc}`),
      range_end: prefixEnd(prefix),
      limit,
    });
    return response.kvs.map((kv) => JSON.parse(kv.value.toString()) as ClusterEvent);
  }

  async trimBefore(beforeHlc: string): Promise<void> {
    for (const mark of await this.marks()) {
      const prefix = this.keys.eventsOfHost(mark.host);
      await this.client.kv.deleteRange({
        key: Buffer.from(prefix),
        range_end: Buffer.from(`${prefix}${beforeHlc}`),
      });
      // A host silent for the whole retention period is gone: forget its mark so readers stop waiting on it.
      if (mark.hlc < beforeHlc)
        await this.client.kv.deleteRange({ key: Buffer.from(this.keys.eventMark(mark.host)) });
    }
  }
}
