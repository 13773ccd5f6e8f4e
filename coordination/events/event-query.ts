/**
 * Reading the merged cluster event log: each host's stream is read from the store and merged
 * through a ReorderBuffer whose watermark is the hosts' shipping marks. Events above the
 * watermark are held back (a host may still ship something that sorts before them), so a page
 * never has to be rewritten later, except for late events: a host whose mark has not moved for
 * `maxLatenessMs` is not waited for, and what it ships afterwards lands at its right place in the
 * store, behind pages already served; a re-read from an earlier cursor sees it.
 */

import { hlcAt } from '../clock/hlc';
import type { EventStore } from './event-store';
import { type ClusterEvent, orderKey } from './event-types';
import { ReorderBuffer } from './reorder-buffer';

export interface EventQuery {
  /** Cursor: a `next` from an earlier page (exclusive), or an HLC or ms time (inclusive). Default: the start. */
  from?: { cursor: string } | { hlc: string };
  limit: number;
  /** The reader's corrected clock now, ms. */
  nowMs: number;
  /** A host whose mark is older than this is not waited for, ms. */
  maxLatenessMs: number;
}

export interface EventPage {
  events: ClusterEvent[];
  /** Cursor for the next page (pass as `from`), or null when nothing was returned. */
  next: string | null;
  /** The merge's watermark: every event at or below it has been delivered in order. */
  watermark: string | null;
  /** Events read but held back above the watermark. */
  heldBack: number;
  /** Hosts not waited for, because their mark is stale. */
  staleHosts: string[];
}

export async function readMergedEvents(
  store: EventStore,
  { from, limit, nowMs, maxLatenessMs }: EventQuery,
): Promise<EventPage> {
  const after = from && 'cursor' in from ? from.cursor : undefined;
  const fromHlc =
    from === undefined
      ? hlcAt(0)
      : 'cursor' in from
        ? from.cursor.slice(0, from.cursor.indexOf('/'))
        : from.hlc;
  const buffer = new ReorderBuffer<ClusterEvent>({ key: orderKey });
  const staleHosts: string[] = [];
  // Ties at the cursor's HLC are filtered below; read a few extra so they cannot starve a page.
  const readLimit = limit + 16;
  for (const mark of await store.marks()) {
    const read = await store.readHost(mark.host, fromHlc, readLimit);
    for (const e of read) if (after === undefined || orderKey(e) > after) buffer.push(mark.host, e);
    const exhausted = read.length < readLimit;
    // Everything from this host up to its mark is in the store; if the read was cut short, only up to what was read.
    if (exhausted) buffer.advance(mark.host, `${mark.hlc}/\uffff`);
    if (nowMs - mark.atMs > maxLatenessMs && exhausted) {
      buffer.retire(mark.host);
      staleHosts.push(mark.host);
    }
  }
  const released = buffer.release();
  const events = released.slice(0, limit);
  const last = events.at(-1);
  return {
    events,
    next: last ? orderKey(last) : null,
    watermark: buffer.watermark() ?? null,
    heldBack: buffer.size + (released.length - events.length),
    staleHosts,
  };
}
