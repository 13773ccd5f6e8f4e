/**
 * On-disk size of each etcd member: the bbolt database as the member reports it (dbSize), and the
 * member's whole data directory (db, WAL, snapshots) as allocated on disk. Also compaction and
 * defragmentation of every member, to measure what retention gives back.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { prefixEnd } from '../../ledger/etcd/key-layout';
import { DEFAULT_BACKEND_BATCH_LIMIT, type EtcdCluster } from '../cluster/etcd-cluster';

/** Keys one DeleteRange of `deletePrefix` removes at most: etcd's backend batch limit here. */
export const DELETE_KEYS_PER_TXN = DEFAULT_BACKEND_BATCH_LIMIT;

export interface MemberSize {
  member: string;
  /** bbolt database size reported by the member, bytes. */
  dbBytes: number;
  /** Bytes allocated on disk by the member's data directory (WAL files are preallocated in 64 MB). */
  dirBytes: number;
}

function allocatedBytes(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.blocks * 512;
  return readdirSync(path).reduce((sum, name) => sum + allocatedBytes(join(path, name)), 0);
}

/** One client per member, because status and defragment answer for the member they reach. */
export class StorageProbe {
  private readonly clients: { name: string; dataDir: string; client: Etcd3 }[];

  /** As root on a secured cluster: defragmentation needs the root role. */
  constructor(private readonly etcd: EtcdCluster) {
    this.clients = etcd.members.map((m) => ({
      name: m.name,
      dataDir: m.dataDir,
      client: createEtcdClient({
        endpoints: [m.clientUrl],
        callDeadlineMs: 60_000,
        attempts: 1,
        tls: etcd.credentials(),
      }),
    }));
  }

  async sizes(): Promise<MemberSize[]> {
    return Promise.all(
      this.clients.map(async ({ name, dataDir, client }) => ({
        member: name,
        dbBytes: Number((await client.maintenance.status()).dbSize),
        dirBytes: allocatedBytes(dataDir),
      })),
    );
  }

  /** Compacts history up to the current revision, then defragments every member in turn. */
  async compactAndDefragment(): Promise<void> {
    await this.compact();
    await this.defragment();
  }

  /** Compacts history up to the current revision (physical: returns once the members applied it). */
  async compact(): Promise<void> {
    const first = this.clients[0]!.client;
    const { header } = await first.kv.range({ key: Buffer.from('/') });
    await first.kv.compact({ revision: header.revision, physical: true });
  }

  /** Defragments every member in turn. */
  async defragment(): Promise<void> {
    for (const { client } of this.clients) await client.maintenance.defragment();
  }

  /**
   * Deletes every key under a prefix (a retention policy dropping old payments), returns how many.
   * At most `keysPerTxn` keys per DeleteRange, because one transaction grows etcd 3.4's read
   * buffer to its own size whatever the batch limit (DEFAULT_BACKEND_BATCH_LIMIT): one delete of
   * 25 000 raw puts made the bench's rows after its first round run at a third of their speed.
   */
  async deletePrefix(prefix: string, keysPerTxn = DELETE_KEYS_PER_TXN): Promise<number> {
    const client = this.clients[0]!.client;
    const end = prefixEnd(prefix);
    let deleted = 0;
    for (;;) {
      const { kvs } = await client.kv.range({
        key: Buffer.from(prefix),
        range_end: end,
        keys_only: true,
        limit: keysPerTxn,
      });
      if (kvs.length === 0) return deleted;
      const last = kvs.at(-1)!.key;
      const response = await client.kv.deleteRange({
        key: kvs[0]!.key,
        range_end: Buffer.concat([last, Buffer.from([0])]),
      });
      deleted += Number(response.deleted);
    }
  }

  close(): void {
    for (const { client } of this.clients) client.close();
    void this.etcd;
  }
}
