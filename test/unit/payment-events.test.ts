/**
 * The payment handlers stamp commits with the HLC and record the payment events of the cluster
 * event log (formerly a ledger decorator). A stored payment is a message between hosts: a replay
 * or a query on a host whose clock is behind still sorts after the commit it saw.
 */
import { describe, expect, it } from 'vitest';
import { HostClock } from '../../coordination/clock/clock';
import { HybridClock } from '../../coordination/clock/hlc';
import type { ClusterEventType, EventDetails } from '../../coordination/events/event-types';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

interface Recorded {
  host: string;
  type: ClusterEventType;
  details: EventDetails;
  hlc: string | undefined;
}

function host(id: string, offsetMs: number, ledger: MemoryLedger, events: Recorded[]) {
  const hostClock = new HostClock({ offsetMs });
  const hlc = new HybridClock({ clock: hostClock });
  const record = (type: ClusterEventType, details: EventDetails, stamp?: string) => {
    events.push({ host: id, type, details, hlc: stamp });
  };
  return createTestApp({ ledger, clock: hostClock, hostId: id, clocks: { hostClock, hlc, record } });
}

const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('payment events recorded by the handlers', () => {
  it('orders committed on a fast host before replayed and queried on a slow one, and records a rejection', async () => {
    const ledger = new MemoryLedger();
    const events: Recorded[] = [];
    // 400 ms apart: within the HLC's maximum offset (500 ms), past which a received timestamp is
    // ignored as forged (coordination/clock/hlc.ts).
    const fast = host('h1', 200, ledger, events);
    const slow = host('h2', -200, ledger, events);
    const payment = { id: 'ev-1', payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' };

    const first = await fast.request('/payments', post(payment));
    expect(first.status).toBe(201);
    const stored = (await first.json()) as { hlc?: string };
    expect(stored.hlc).toMatch(/^\d{15}\.\d{5}$/);
    expect((await slow.request('/payments', post(payment))).status).toBe(200);
    expect((await slow.request('/payments/ev-1?payer=alice')).status).toBe(200);
    expect((await slow.request('/payments', post({ ...payment, amount: 5 }))).status).toBe(409);

    expect(events.map((e) => `${e.host} ${e.type}`)).toEqual([
      'h1 payment.received',
      'h1 payment.committed',
      'h2 payment.received',
      'h2 payment.replayed',
      'h2 payment.queried',
      'h2 payment.received',
      'h2 payment.rejected',
    ]);
    const stampOf = (type: ClusterEventType) => events.find((e) => e.type === type)!.hlc!;
    // HLC's receive rule: the slow host's replay sorts after the stored payment's HLC (the message
    // it received), whatever the skew within the maximum offset.
    expect(stampOf('payment.committed') > stored.hlc!).toBe(true);
    expect(stampOf('payment.replayed') > stored.hlc!).toBe(true);
    expect(stampOf('payment.queried') > stampOf('payment.replayed')).toBe(true);
    // Without the receive rule the slow host's own clock, 400 ms behind, would have stamped it.
    expect(Number(stampOf('payment.replayed').slice(0, 15))).toBe(Number(stored.hlc!.slice(0, 15)));
    expect(events.find((e) => e.type === 'payment.replayed')!.details).toMatchObject({
      id: 'ev-1',
      committedBy: 'h1',
      paymentHlc: stored.hlc,
    });
    expect(events.at(-1)!.details).toEqual({ id: 'ev-1', code: 'idempotency_conflict' });
  });
});
