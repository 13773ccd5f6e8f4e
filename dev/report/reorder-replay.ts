/**
 * Replays the events three hosts really recorded through the event log's ReorderBuffer
 * (coordination/events/reorder-buffer.ts), as a reader merging their streams would see them:
 * each host ships in batches every `flushMs` (EventLog's default 500 ms), each batch reaches the
 * reader after a seeded network delay, and one host is cut off for a while (its batches arrive
 * when the cut heals). The reader releases every `releaseEveryMs` and stops waiting for a host
 * whose progress has not moved for `maxLatenessMs`, as readMergedEvents does. Counts the events
 * that arrived behind the watermark (late), the delay the buffer added to each event (release
 * time minus arrival), and how far the watermark lagged real time at each release.
 * A discrete-event simulation over recorded events: no timers, so it is exact and repeatable.
 */
import { parseHlc } from '../../coordination/clock/hlc';
import { type ClusterEvent, orderKey } from '../../coordination/events/event-types';
import { ReorderBuffer } from '../../coordination/events/reorder-buffer';
import { seededRandom } from '../chaos/workload';

export interface ReplayOptions {
  /** Shipping period of each host, ms. Default 500. */
  flushMs?: number;
  /** One-way delay of a batch, ms: [min, max], drawn uniformly from `seed`. Default [3, 7]. */
  delayMs?: [number, number];
  /** A host cut off from the store for [fromMs, toMs) after the first event. Default none. */
  cut?: { host: string; fromMs: number; toMs: number };
  /** A host whose progress is older than this is retired, ms. Default 1000. */
  maxLatenessMs?: number;
  releaseEveryMs?: number;
  seed?: number;
}

export interface ReplayResult {
  events: number;
  late: number;
  /** Per event: release time minus arrival time at the reader, ms. */
  delaysMs: number[];
  /** Per release: the release time minus the watermark's physical time, ms. */
  watermarkLagMs: number[];
}

const physicalMs = (key: string) => parseHlc(key.slice(0, key.indexOf('/')))?.l ?? Number.NaN;

export function replayMerge(
  recorded: ClusterEvent[],
  {
    flushMs = 500,
    delayMs = [3, 7],
    cut,
    maxLatenessMs = 1000,
    releaseEveryMs = 100,
    seed = 1,
  }: ReplayOptions = {},
): ReplayResult {
  if (recorded.length === 0) return { events: 0, late: 0, delaysMs: [], watermarkLagMs: [] };
  const draw = seededRandom(seed);
  const start = Math.min(...recorded.map((e) => Date.parse(e.at)));
  // Arrival at the reader: the next flush after recording, plus one network delay per batch (a
  // batch arrives whole, so each host's stream stays in order); a cut host's batches wait for
  // the heal.
  const batchDelay = new Map<string, number>();
  const arrivals = recorded.map((e) => {
    const recordedAt = Date.parse(e.at) - start;
    let shipped = Math.ceil((recordedAt + 1) / flushMs) * flushMs;
    if (cut && e.host === cut.host && shipped >= cut.fromMs && shipped < cut.toMs) shipped = cut.toMs;
    const batch = `${e.host}@${shipped}`;
    if (!batchDelay.has(batch)) batchDelay.set(batch, delayMs[0] + draw() * (delayMs[1] - delayMs[0]));
    return { e, key: orderKey(e), at: shipped + batchDelay.get(batch)! };
  });
  arrivals.sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const buffer = new ReorderBuffer<{ key: string; at: number }>({ key: (x) => x.key });
  const lastHeard = new Map<string, number>();
  const delaysMs: number[] = [];
  const watermarkLagMs: number[] = [];
  // Until everything has arrived and been released: the last sources are retired after
  // maxLatenessMs of silence, which releases what they held back.
  const end = arrivals.at(-1)!.at + 2 * maxLatenessMs + 2 * releaseEveryMs;
  let next = 0;
  for (let now = 0; now <= end && (next < arrivals.length || buffer.size > 0); now += releaseEveryMs) {
    for (; next < arrivals.length && arrivals[next]!.at <= now; next++) {
      const { e, key, at } = arrivals[next]!;
      buffer.push(e.host, { key, at });
      lastHeard.set(e.host, now);
    }
    for (const [host, heard] of lastHeard) if (now - heard > maxLatenessMs) buffer.retire(host);
    const mark = buffer.watermark();
    for (const x of buffer.release()) delaysMs.push(now - x.at);
    if (mark !== undefined) watermarkLagMs.push(now - (physicalMs(mark) - start));
  }
  return { events: recorded.length, late: buffer.lateCount, delaysMs, watermarkLagMs };
}
