/**
 * Fault-tolerant selection (issue 16): Marzullo's intersection over NTP servers, Welch and Lynch's
 * fault-tolerant midpoint over hosts, and the NTP reference against test servers with known offsets.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { HostClock } from '../../coordination/clock/clock';
import { berkeleyRound } from '../../coordination/clock-sync/berkeley';
import { faultTolerantMidpoint, marzullo } from '../../coordination/clock-sync/clock-selection';
import { NtpReference } from '../../coordination/clock-sync/ntp-reference';
import type { TimeAdjustment, TimePeer } from '../../coordination/clock-sync/time-peer';
import { TestSntpServer } from '../support/sntp-server';

describe("Marzullo's intersection", () => {
  it('finds the region most intervals share and names the sources that agree', () => {
    const r = marzullo([
      { lo: 8, hi: 12 },
      { lo: 11, hi: 13 },
      { lo: 10, hi: 12 },
    ])!;
    expect([r.lo, r.hi, r.count]).toEqual([11, 12, 3]);
    expect(r.midpoint).toBe(11.5);
  });

  it('leaves a falseticker out, and refuses when no majority agrees', () => {
    const r = marzullo([
      { lo: -1, hi: 1 },
      { lo: 1990, hi: 2010 },
      { lo: -0.5, hi: 0.5 },
    ])!;
    expect(r.agreeing).toEqual([true, false, true]);
    expect(r.midpoint).toBe(0);
    expect(
      marzullo([
        { lo: 0, hi: 1 },
        { lo: 5, hi: 6 },
      ]),
    ).toBeUndefined();
  });

  it('property: with a majority of intervals holding the truth, the result lies within every agreeing interval', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1000, max: 1000, noNaN: true }),
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 50, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true })),
          {
            minLength: 2,
            maxLength: 6,
          },
        ),
        fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { maxLength: 2 }),
        (truth, correct, falsetickers) => {
          const intervals = [
            ...correct.map(([below, above]) => ({ lo: truth - below, hi: truth + above })),
            ...falsetickers.map((x) => ({ lo: x, hi: x + 1 })),
          ];
          const r = marzullo(intervals, correct.length);
          if (!r) return false;
          return r.lo <= r.hi && intervals.every((s, i) => !r.agreeing[i] || (s.lo <= r.hi && s.hi >= r.lo));
        },
      ),
    );
  });
});

describe('Welch and Lynch fault-tolerant midpoint', () => {
  it('with three clocks, one far off cannot move the result, whichever reading comes first', () => {
    for (const order of [
      [-2000, 0, 1500],
      [1500, -2000, 0],
      [0, 1500, -2000],
    ]) {
      expect(faultTolerantMidpoint(order).midpoint).toBe(0);
    }
  });

  it('property: the midpoint lies within the range of the correct readings when at most f are faulty', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 2 }),
        (correct, faulty) => {
          fc.pre(faulty.length < correct.length);
          const { midpoint } = faultTolerantMidpoint([...faulty, ...correct], faulty.length);
          return midpoint >= Math.min(...correct) && midpoint <= Math.max(...correct);
        },
      ),
    );
  });
});

describe('Berkeley round without a reference (issue 16)', () => {
  const hosts = ['h1', 'h2', 'h3'].map((id) => ({ id, url: `http://${id}`, since: '' }));
  const round = (peer: TimePeer, clock: HostClock) =>
    berkeleyRound({ clock, peer, selfId: 'h1', hosts, round: 1, fencingToken: '1' });

  it("on a cold start where only the master's own reading is at hand, adjusts nobody (it would adopt the leader's clock)", async () => {
    const sent: TimeAdjustment[] = [];
    const silent: TimePeer = {
      readTime: () => Promise.reject(new Error('slow first connection')),
      sendAdjustment: async (_url, a) => {
        sent.push(a);
      },
    };
    const master = new HostClock({ offsetMs: -2000 });
    const result = await round(silent, master);
    expect(result.readings).toEqual([]);
    expect(master.synced).toBe(false);
    expect(sent).toEqual([]);
  });

  it('on a cold start with every host answering, brings all to the median, the master included', async () => {
    const t = 1_700_000_000_000;
    const offsets: Record<string, number> = { h2: 0, h3: 1500 };
    const sent: Record<string, number> = {};
    const peer: TimePeer = {
      readTime: async (url) => {
        const id = url.slice('http://'.length);
        const time = t + offsets[id]!;
        return {
          host: id,
          time,
          corrected: time,
          raw: time,
          errorBoundMs: null,
          estimateErrorMs: null,
          synced: false,
          source: null,
          referenceErrorBoundMs: null,
        };
      },
      sendAdjustment: async (url, a) => {
        sent[url] = a.deltaMs;
      },
    };
    const master = new HostClock({ source: () => t, offsetMs: -2000 });
    await round(peer, master);
    expect(master.pendingMs()).toBeCloseTo(2000, 6);
    expect(sent).toEqual({ 'http://h2': 0, 'http://h3': -1500 });
  });
});

describe('Berkeley round with a reference', () => {
  const hosts = ['h1', 'h2'].map((id) => ({ id, url: `http://${id}`, since: '' }));

  it("sends the measured correction even inside its error (no dead band), marked referenced, its bound covering the chain and the reading's age", async () => {
    let t = 1_700_000_000_000;
    let polls = 0;
    const sent: TimeAdjustment[] = [];
    const peer: TimePeer = {
      readTime: async () => {
        // The first poll takes 4 ms (±2 ms), the second 100 ms (±50: adds nothing to the intersection).
        const leg = polls++ === 0 ? 2 : 50;
        t += leg;
        const time = t + 1; // h2 is 1 ms ahead of the master: within the reading's error
        t += leg;
        return {
          host: 'h2',
          time,
          corrected: time,
          raw: time,
          errorBoundMs: 5,
          estimateErrorMs: 5,
          synced: true,
          source: 'master',
          referenceErrorBoundMs: null,
        };
      },
      sendAdjustment: async (_url, a) => {
        sent.push(a);
      },
    };
    const master = new HostClock({ source: () => t, maxDriftPpm: 500 });
    master.adjust(0, 3, 'reference');
    await berkeleyRound({
      clock: master,
      peer,
      selfId: 'h1',
      hosts,
      round: 1,
      fencingToken: '1',
      referenced: true,
      samplesPerHost: 2,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.referenced).toBe(true);
    expect(sent[0]!.deltaMs).toBeCloseTo(-1, 6);
    // ±2 (RTT/2) + the master's 3 ms grown by 500 ppm over the round's 104 ms + both clocks' 500 ppm
    // over the first reading's age (104 ms: the adjustment rests on it, though later polls were slow).
    expect(sent[0]!.errorMs).toBeCloseTo(2 + 3 + (104 * 500) / 1e6 + (104 * 2 * 500) / 1e6, 6);
  });
});

describe('NTP reference (real SNTP exchanges on loopback)', () => {
  const servers: TestSntpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async (offsetMs: number) => {
    const s = await TestSntpServer.start({ offsetMs });
    servers.push(s);
    return s;
  };

  it("measures a skewed host clock's offset from the server within the reported bound", async () => {
    const server = await start(0);
    const clock = new HostClock({ offsetMs: -2000, driftPpm: 200 });
    const sample = await new NtpReference({ servers: [server.address] }).sample(clock);
    expect(sample.errorMs).toBeLessThan(5);
    expect(Math.abs(sample.offsetMs - 2000)).toBeLessThanOrEqual(sample.errorMs);
  });

  it('outvotes one server that is 2 s off, and fails when no majority answers', async () => {
    const good = [await start(0), await start(0)];
    const bad = await start(2000);
    const clock = new HostClock({ offsetMs: 300 });
    const reference = new NtpReference({
      servers: [bad.address, ...good.map((s) => s.address)],
      timeoutMs: 200,
    });
    const sample = await reference.sample(clock);
    expect(sample.agreeing).toBe(2);
    expect(Math.abs(sample.offsetMs + 300)).toBeLessThanOrEqual(sample.errorMs);
    for (const s of good) s.answering = false;
    await expect(reference.sample(clock)).rejects.toThrow(/no majority/);
  });
});
