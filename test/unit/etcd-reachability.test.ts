/**
 * Issue 15 §4 in-process: a host that has lost etcd answers 503 (Retry-After) at once, both to
 * new requests and to those already waiting on etcd, so clients fail over without waiting out
 * their attempt timeout. The ledger here hangs, as a real one does on a host cut off from etcd.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

/** A cluster source whose etcd reachability the test flips. */
function cutOffSource() {
  const events = new EventEmitter();
  let reachable = true;
  const source: ClusterStatusSource = {
    selfId: 'h1',
    hosts: () => [],
    leader: () => undefined,
    isLeader: () => false,
    registered: () => true,
    etcdMembers: async () => [],
    etcdReachable: () => reachable,
    onEtcdReachability: (listener) => {
      events.on('change', listener);
      return () => events.off('change', listener);
    },
  };
  return {
    source,
    lose() {
      reachable = false;
      events.emit('change', false);
    },
  };
}

/** A ledger whose calls never answer, like one whose etcd members are all unreachable. */
const never = () => new Promise<never>(() => {});
class HangingLedger extends MemoryLedger {
  override commit = never;
  override get = never;
  override findById = never;
  override ping = never;
}

const payment = { id: 'p1', payer: 'alice', payee: 'shop-1', amount: 100, currency: 'EUR' };
const post = (app: ReturnType<typeof createTestApp>) =>
  app.request('/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payment),
  });

describe('a host that has lost etcd', () => {
  it('a host cut off from etcd answers 503 with Retry-After at once, to waiting requests and new ones', async () => {
    const cut = cutOffSource();
    const app = createTestApp({
      ledger: new HangingLedger(),
      clock: systemClock,
      hostId: 'h1',
      cluster: cut.source,
    });
    const waiting = post(app);
    const readWaiting = app.request('/payments/p1?payer=alice');
    await new Promise((r) => setTimeout(r, 50));
    const lostAt = performance.now();
    cut.lose();
    const timeout = new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), 1000));
    for (const pending of [waiting, readWaiting]) {
      const response = await Promise.race([pending, timeout]);
      expect(response).not.toBe('still waiting');
      expect((response as Response).status).toBe(503);
      expect((response as Response).headers.get('retry-after')).toBeTruthy();
    }
    const fresh = await Promise.race([post(app), timeout]);
    expect((fresh as Response).status).toBe(503);
    const ready = await Promise.race([app.request('/ready'), timeout]);
    expect((ready as Response).status).toBe(503);
    expect(performance.now() - lostAt).toBeLessThan(500);
  });
});
