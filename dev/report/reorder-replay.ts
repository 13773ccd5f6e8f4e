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

/** Mulberry32: a small seeded generator, so a replay is the same every time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
  const draw = random(seed);
  const start = Math.min(...recorded.map((e) => Date.parse(e.at)));
  // Arrival at the reader: the next flush after recording, plus the network; a cut host's
  // batches wait for the heal.
  const arrivals = recorded.map((e) => {
    const recordedAt = Date.parse(e.at) - start;
    let shipped = Math.ceil((recordedAt + 1) / flushMs) * flushMs;
    if (cut && e.host === cut.host && shipped >= cut.fromMs && shipped < cut.toMs) shipped = cut.toMs;
    return { e, key: orderKey(e), at: shipped + delayMs[0] + draw() * (delayMs[1] - delayMs[0]) };
  });
  arrivals.sort((a, b) => a.at - b.at);
  const buffer = new ReorderBuffer<{ key: string; at: number }>({ key: (x) => x.key });
  const lastHeard = new Map<string, number>();
  const delaysMs: number[] = [];
  const watermarkLagMs: number[] = [];
  const end = arrivals.at(-1)!.at + releaseEveryMs;
  let next = 0;
  for (let now = 0; now <= end + maxLatenessMs; now += releaseEveryMs) {
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
