/**
 * A reorder buffer with a watermark, for merging several sources that each deliver in their own
 * order but arrive interleaved arbitrarily (delayed by the network, or by a host that was cut off).
 *
 * Each source's progress is the largest key it has delivered (sources are FIFO), or what it
 * declares with `advance` (a host's shipping mark). The watermark is the smallest progress over
 * the active sources: nothing at or below it can still arrive from them, so buffered items up to
 * it are released in key order. A source that stays silent too long is `retire`d so it cannot hold
 * everything back; whatever it delivers later behind the watermark is late: it is still released
 * (at the next release, out of the order already emitted) and counted, so callers can tell.
 */

export interface ReorderBufferOptions<T> {
  /** Sort key; string order is the merged order. */
  key: (item: T) => string;
}

export class ReorderBuffer<T> {
  /** Items that arrived behind the watermark already released. */
  lateCount = 0;
  private readonly key: (item: T) => string;
  private buffered: { key: string; item: T; late: boolean }[] = [];
  private readonly progress = new Map<string, string>();
  private readonly retired = new Set<string>();
  private released: string | undefined;

  constructor({ key }: ReorderBufferOptions<T>) {
    this.key = key;
  }

  /** Adds an item from `source`; answers whether it arrived in time or late. */
  push(source: string, item: T): 'buffered' | 'late' {
    const key = this.key(item);
    const late = this.released !== undefined && key <= this.released;
    if (late) this.lateCount += 1;
    this.buffered.push({ key, item, late });
    const seen = this.progress.get(source);
    if (seen === undefined || key > seen) this.progress.set(source, key);
    return late ? 'late' : 'buffered';
  }

  /** Declares that `source` has delivered everything up to `key`; reactivates a retired source. */
  advance(source: string, key: string): void {
    this.retired.delete(source);
    const seen = this.progress.get(source);
    if (seen === undefined || key > seen) this.progress.set(source, key);
  }

  /** Stops waiting for `source`; its later items will be late. */
  retire(source: string): void {
    this.retired.add(source);
  }

  /** Smallest progress over active sources; undefined when none is active (nothing holds back). */
  watermark(): string | undefined {
    let low: string | undefined;
    for (const [source, key] of this.progress) {
      if (this.retired.has(source)) continue;
      if (low === undefined || key < low) low = key;
    }
    return low;
  }

  /** Takes out, in key order, every buffered item at or below the watermark (and any late item). */
  release(): T[] {
    const mark = this.watermark();
    const ready = this.buffered.filter((b) => b.late || mark === undefined || b.key <= mark);
    this.buffered = this.buffered.filter((b) => !(b.late || mark === undefined || b.key <= mark));
    ready.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const passed of [ready.at(-1)?.key, mark]) {
      if (passed !== undefined && (this.released === undefined || passed > this.released))
        this.released = passed;
    }
    return ready.map((b) => b.item);
  }

  /** Items still held back by the watermark. */
  get size(): number {
    return this.buffered.length;
  }
}
