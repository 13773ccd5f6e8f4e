/**
 * The archived-id summary: which payment ids have left etcd for the archive, as Bloom filters
 * (the `bloomfilter` package), so that a commit or a read asks PostgreSQL only about an id the
 * summary says may be archived (issue 14, item 3). Pure data here; etcd keys in
 * ledger/etcd/key-layout.ts, the hosts' copy in ledger/etcd/archived-id-cache.ts, the writer in
 * coordination/cluster/ledger-archiver.ts.
 *
 * Partitioned by a hash of the id into BUCKETS buckets, so a lookup consults one bucket (and
 * findById, which has no payer, too: the element is the id, whoever paid it). Each bucket is a
 * scalable Bloom filter (Almeida, Baquero, Preguiça, Hutchison, "Scalable Bloom Filters", 2007,
 * §4): a list of levels, each holding at most LEVEL_CAPACITY ids; when the last level is full a new
 * one starts with a tighter error, p_i = P0 · R^i, so a bucket's false-positive rate stays below
 * Σ p_i = P0 / (1 − R) = 1 % however far it grows. Levels are fixed-size so that an archival
 * rewrites at most one level (≤ 10 KiB) per bucket it touches; full levels are never written again.
 *
 * Size, the same in etcd and in each host's memory: level i takes 1.44 · log2(1/p_i) bits per id,
 * 15.4 at level 0 plus 0.107 per level, so with N ids archived (N / 1.05 M levels per bucket) the
 * average is 15.4 + 0.053 · N / 1.05 M bits: 2.0 bytes per id at 10 M ids, 2.6 at 100 M, 8 at 1 G.
 */
import { hash } from 'node:crypto';
import { BloomFilter } from 'bloomfilter';

/** Buckets of the summary. Part of the stored layout: changing it needs a rebuild of the summary. */
export const BUCKETS = 256;
/** Ids per level. */
export const LEVEL_CAPACITY = 4096;
/** Target false-positive rate of a bucket's first level, and the tightening ratio of each next one. */
const P0 = 0.0005;
const R = 0.95;

/** The bucket an id's membership lives in. */
export function bucketOf(id: string): number {
  // The first 32 bits of sha256(id), big-endian, mod 256: that is the digest's fourth byte. The
  // one-shot hash() is half the cost of createHash() and runs for every payment committed.
  return (hash('sha256', id, 'buffer')[3] ?? 0) % BUCKETS;
}

/** One level: a Bloom filter and how many ids were added to it. */
export interface SummaryLevel {
  filter: BloomFilter;
  ids: number;
}

export function newLevel(level: number): SummaryLevel {
  const p = P0 * R ** level;
  const m = Math.ceil((-LEVEL_CAPACITY * Math.log(p)) / Math.LN2 ** 2);
  const k = Math.max(1, Math.round((m / LEVEL_CAPACITY) * Math.LN2));
  return { filter: new BloomFilter(m, k), ids: 0 };
}

/** Stored form of a level: ids (u32), k (u32), then the filter's 32-bit words, little-endian. */
export function encodeLevel({ filter, ids }: SummaryLevel): Buffer {
  const out = Buffer.alloc(8 + filter.buckets.length * 4);
  out.writeUInt32LE(ids, 0);
  out.writeUInt32LE(filter.k, 4);
  for (let i = 0; i < filter.buckets.length; i++) out.writeUInt32LE(filter.buckets[i]!, 8 + i * 4);
  return out;
}

export function decodeLevel(bytes: Buffer): SummaryLevel {
  const words = new Uint32Array((bytes.length - 8) / 4);
  for (let i = 0; i < words.length; i++) words[i] = bytes.readUInt32LE(8 + i * 4);
  return { ids: bytes.readUInt32LE(0), filter: new BloomFilter(words, bytes.readUInt32LE(4)) };
}

/** True when the id may be in one of the levels; false means surely not archived. */
export function mayContain(levels: readonly SummaryLevel[], id: string): boolean {
  return levels.some((level) => level.filter.test(id));
}

/**
 * Adds ids to a bucket's levels (changed in place) and returns the indexes of the levels that
 * changed, which are the ones to write back: the last one, and any it spilled into.
 */
export function addIds(levels: SummaryLevel[], ids: Iterable<string>): number[] {
  const changed = new Set<number>();
  for (const id of ids) {
    let last = levels.length - 1;
    if (last < 0 || levels[last]!.ids >= LEVEL_CAPACITY) {
      levels.push(newLevel(levels.length));
      last += 1;
    }
    levels[last]!.filter.add(id);
    levels[last]!.ids += 1;
    changed.add(last);
  }
  return [...changed];
}
