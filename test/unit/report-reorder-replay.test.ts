/**
 * The reordering figures of measure:clocks come from replaying recorded events through the event
 * log's ReorderBuffer: a host cut off must make its events late (or hold the others back), and
 * with nobody cut off and batches in order, nothing may be late.
 */
import { describe, expect, it } from 'vitest';
import { formatHlc } from '../../coordination/clock/hlc';
import type { ClusterEvent } from '../../coordination/events/event-types';
import { replayMerge } from '../../dev/report/reorder-replay';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
/** Three hosts recording one event every 50 ms each for `ms`, at true time (synced clocks). */
function recorded(ms: number): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (let t = 0; t < ms; t += 50)
    ['h1', 'h2', 'h3'].forEach((host, i) => {
      const at = T0 + t + i;
      events.push({
        host,
        seq: t / 50,
        type: 'payment.committed',
        hlc: formatHlc({ l: at, c: 0 }),
        at: new Date(at).toISOString(),
        rawAt: new Date(at).toISOString(),
        recorrected: false,
        details: {},
      });
    });
  return events;
}

describe('replayMerge', () => {
  it('releases every event, none late, when no host is cut off', () => {
    const r = replayMerge(recorded(5000), { seed: 7 });
    expect(r.events).toBe(300);
    expect(r.late).toBe(0);
    expect(r.delaysMs).toHaveLength(300);
    // Batches every 500 ms: the watermark waits for the slowest host's next batch, not longer;
    // only the stream's tail waits for the hosts to be retired (1 s of silence).
    const sorted = [...r.delaysMs].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.9)]!).toBeLessThanOrEqual(600);
    expect(sorted.at(-1)!).toBeLessThanOrEqual(1000 + 500 + 100 + 10);
  });

  it('counts the events of a host cut off past the lateness limit as late', () => {
    const r = replayMerge(recorded(6000), { seed: 7, cut: { host: 'h3', fromMs: 1000, toMs: 4000 } });
    expect(r.delaysMs).toHaveLength(360);
    expect(r.late).toBeGreaterThan(0);
    // While h3 is silent but not yet retired, the others are held back: the watermark lags.
    expect(Math.max(...r.watermarkLagMs)).toBeGreaterThan(1000);
  });

  it('is the same for the same seed', () => {
    const opts = { seed: 3, cut: { host: 'h1', fromMs: 500, toMs: 2500 } };
    expect(replayMerge(recorded(4000), opts)).toEqual(replayMerge(recorded(4000), opts));
  });
});
