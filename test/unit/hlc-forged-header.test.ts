/**
 * Issue 15 §1: a forged `X-HLC` header. Anyone could send a timestamp far ahead of the host's
 * clock; the host stored it, then threw on counter overflow and answered 500 on every route for a
 * minute, or carried the forged time into every later timestamp. These tests pin the fix: the HLC
 * receive rule never moves the clock more than the maximum offset ahead of physical time (a message
 * beyond it is ignored and counted, as CockroachDB does), the state is validated before it is
 * stored, and the header is honoured only with a valid API key.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { HostClock } from '../../coordination/clock/clock';
import { formatHlc, HLC_HEADER, HybridClock, parseHlc } from '../../coordination/clock/hlc';
import { MemoryEventStore } from '../../coordination/events/event-store';
import { ROUTES } from '../../functions/routes';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, type TestApp } from '../support/test-app';

const MAX_OFFSET_MS = 500;

let hostClock: HostClock;
let hlc: HybridClock;
let app: TestApp;

beforeEach(() => {
  hostClock = new HostClock();
  hlc = new HybridClock({ clock: hostClock });
  app = createTestApp({
    ledger: new MemoryLedger(),
    clock: hostClock,
    hostId: 'h1',
    clocks: { hostClock, hlc, eventStore: new MemoryEventStore() },
  });
});

/** How far the HLC's physical part is ahead of the host's clock, ms. */
const hlcLead = (): number => (parseHlc(hlc.current())?.l ?? 0) - hostClock.now();

const forged = (aheadMs: number, counter: number): string =>
  formatHlc({ l: Math.floor(Date.now() + aheadMs), c: counter });

const payment = (id: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id, payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' }),
});

describe('forged X-HLC header (issue 15 §1)', () => {
  it('a header 59 s ahead with counter 99999, without a key, takes no route to 5xx', async () => {
    const first = await app.request('/health', {
      headers: { [HLC_HEADER]: forged(59_000, 99_999), authorization: '' },
    });
    expect(first.status).toBe(200);
    for (const [path, init] of [
      ['/health', {}],
      ['/ready', {}],
      ['/payments', payment('p-after-forged-header')],
    ] as const) {
      const res = await app.request(path, init);
      expect(res.status, `${path} after the forged header`).toBeLessThan(500);
    }
    expect(hlcLead()).toBeLessThanOrEqual(MAX_OFFSET_MS);
  });

  it('a header 59 s ahead with counter 00000 and a valid key does not skew the clock, and is counted in /metrics', async () => {
    const res = await app.request('/payments', {
      ...payment('p-skew'),
      headers: { 'content-type': 'application/json', [HLC_HEADER]: forged(59_000, 0) },
    });
    expect(res.status).toBe(201);
    const stamped = parseHlc(((await res.json()) as { hlc: string }).hlc)!;
    expect(stamped.l - Date.now()).toBeLessThanOrEqual(MAX_OFFSET_MS);
    expect(hlcLead()).toBeLessThanOrEqual(MAX_OFFSET_MS);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/hlc_messages_ignored_total\{reason="ahead"\} 1\b/);
  });

  it('a plausible X-HLC is honoured with a valid key and ignored without one', async () => {
    const ahead = forged(300, 7);
    await app.request('/health', { headers: { [HLC_HEADER]: ahead, authorization: '' } });
    expect(hlc.current() < ahead).toBe(true);
    await app.request('/hosts', { headers: { [HLC_HEADER]: ahead } });
    expect(hlc.current() > ahead).toBe(true);
  });

  it('property: random X-HLC values on every route, with a key and without, never a 5xx and the clock stays within the maximum offset', async () => {
    const counter = fc.oneof(fc.constantFrom(0, 1, 99_998, 99_999), fc.integer({ min: 0, max: 99_999 }));
    const header = fc.oneof(
      // plausible, at the edge of the bound, far ahead, far behind, the largest renderable l
      fc
        .tuple(fc.integer({ min: -600_000, max: 60_000_000 }), counter)
        .map(([d, c]) => forged(d, c)),
      fc.tuple(fc.integer({ min: 490, max: 510 }), counter).map(([d, c]) => forged(d, c)),
      counter.map((c) => formatHlc({ l: 999_999_999_999_999, c })),
      counter.map((c) => formatHlc({ l: 0, c })),
      fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    );
    const routes = ROUTES.map((r) => ({
      method: r.method.toUpperCase(),
      path: r.path.replace(/\{(\w+)\}|:(\w+)/g, 'x1'),
    }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        header,
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        async (route, value, withKey, repeat) => {
          for (let i = 0; i < repeat; i++) {
            const init: RequestInit = {
              method: route.method,
              headers: {
                [HLC_HEADER]: value,
                ...(withKey ? {} : { authorization: '' }),
                ...(route.method === 'POST' ? { 'content-type': 'application/json' } : {}),
              },
              ...(route.method === 'POST' ? { body: '{}' } : {}),
            };
            const res = await app.request(route.path, init);
            if (res.status >= 500) return false;
          }
          return hlcLead() <= MAX_OFFSET_MS && (await app.request('/health')).status === 200;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('HybridClock receive rule bounds (issue 15 §1)', () => {
  it('counter overflow at one l moves l on by 1 ms instead of throwing', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridClock({ clock: { now: () => now } });
    const received = clock.receive(formatHlc({ l: now + 100, c: 99_999 }));
    expect(received).toBe(formatHlc({ l: now + 101, c: 0 }));
    expect(clock.tick()).toBe(formatHlc({ l: now + 101, c: 1 }));
  });

  it('a message beyond the maximum offset leaves the state as it was, and counts as a local event', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridClock({ clock: { now: () => now } });
    expect(clock.tick()).toBe(formatHlc({ l: now, c: 0 }));
    expect(clock.receive(formatHlc({ l: now + MAX_OFFSET_MS, c: 0 }))).toBe(formatHlc({ l: now, c: 1 }));
    expect(clock.receive(formatHlc({ l: now + MAX_OFFSET_MS - 1, c: 0 }))).toBe(
      formatHlc({ l: now + MAX_OFFSET_MS - 1, c: 1 }),
    );
    expect(clock.ignored).toEqual({ ahead: 1, malformed: 0 });
  });

  it('a forged counter one tick from overflow, at the edge of the bound, cannot carry l past it', () => {
    const now = 1_700_000_000_000;
    const clock = new HybridClock({ clock: { now: () => now } });
    clock.receive(formatHlc({ l: now + MAX_OFFSET_MS - 1, c: 99_998 }));
    for (let i = 0; i < 3; i++) clock.tick();
    expect(parseHlc(clock.current())!.l - now).toBeLessThanOrEqual(MAX_OFFSET_MS);
  });
});
