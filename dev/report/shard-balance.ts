/**
 * Hash sharding of the ledger by payment id: which of `shards` etcd clusters owns a payment, and
 * how evenly a set of ids spreads. Payments never span shards (one id, one record, one dedup
 * key), so a shard is an independent Raft group and throughput can add up.
 */
import { createHash } from 'node:crypto';

/** The shard of a payment id: the first 4 bytes of SHA-256, modulo the shard count. */
export function shardOf(id: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new Error('shards must be a positive integer');
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shards;
}

export interface Balance {
  shards: number;
  ids: number;
  /** Largest shard's count over the mean count; 1.0 is perfect balance. */
  maxOverMean: number;
  /** Smallest shard's count over the mean count. */
  minOverMean: number;
}

export function shardBalance(ids: readonly string[], shards: number): Balance {
  const counts = new Array<number>(shards).fill(0);
  for (const id of ids) counts[shardOf(id, shards)]!++;
  const mean = ids.length / shards;
  return {
    shards,
    ids: ids.length,
    maxOverMean: Math.max(...counts) / mean,
    minOverMean: Math.min(...counts) / mean,
  };
}
