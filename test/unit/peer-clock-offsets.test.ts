import { describe, expect, it } from 'vitest';
import type { Clock } from '../../coordination/clock/clock';
import { peerClockDetails } from '../../coordination/clock-sync/peer-clock-offsets';
import type { TimePeer, TimeReading } from '../../coordination/clock-sync/time-peer';

/** A clock that advances 10 ms per reading, so the request spans a known round trip. */
function steppingClock(start: number): Clock {
  let t = start;
  return {
    now: () => {
      const reading = t;
      t += 10;
      return reading;
    },
  };
}

const reading = (corrected: number, errorBoundMs: number | null): TimeReading => ({
  host: 'h2',
  time: corrected,
  corrected,
  raw: corrected,
  errorBoundMs,
  estimateErrorMs: errorBoundMs,
  synced: errorBoundMs !== null,
  source: null,
  referenceErrorBoundMs: null,
});

describe('peer clock offsets (Cristian-compensated)', () => {
  it('compares the reading with the midpoint of the request on the local clock', async () => {
    const peer: TimePeer = { readTime: async () => reading(1_250, 2), sendAdjustment: async () => {} };
    // Local clock reads 1000 before and 1010 after: midpoint 1005, so the peer is 245 ms ahead.
    expect(await peerClockDetails(peer, steppingClock(1000), 'http://h2')).toEqual({
      clockOffsetMs: 245,
      clockErrorBoundMs: 7, // the peer's own bound (2) plus half the round trip (5)
      clockSynced: true,
    });
  });

  it('reports unknown for a host that does not answer, and no bound before its first sync', async () => {
    const silent: TimePeer = {
      readTime: async () => Promise.reject(new Error('timeout')),
      sendAdjustment: async () => {},
    };
    expect(await peerClockDetails(silent, steppingClock(0), 'http://h3')).toEqual({
      clockOffsetMs: null,
      clockErrorBoundMs: null,
      clockSynced: null,
    });
    const unsynced: TimePeer = { readTime: async () => reading(5, null), sendAdjustment: async () => {} };
    expect((await peerClockDetails(unsynced, steppingClock(0), 'http://h3')).clockErrorBoundMs).toBeNull();
  });
});
