/**
 * PaymentsClient's failover logic, in-process: three function apps over one memory ledger, reached
 * through an injected fetch that can refuse connections, answer 503, or lose an answer after the
 * commit. The real-process version of these faults is in test/cluster/host-failover.test.ts.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { PaymentsClient } from '../../client/payments-client';
import { systemClock } from '../../coordination/clock/clock';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { loadPayment } from '../../loadtest/failover-load';
import { createTestApp } from '../support/test-app';

type Fault = 'refuse' | 'unavailable' | 'lose-answer' | undefined;

function fleet(faults: Record<string, Fault> = {}) {
  const ledger = new MemoryLedger();
  const down = new MemoryLedger();
  down.unavailable = true;
  const hosts = ['h1', 'h2', 'h3'];
  const apps = Object.fromEntries(
    hosts.map((id) => [id, createTestApp({ ledger, clock: systemClock, hostId: id })]),
  );
  const unavailableApps = Object.fromEntries(
    hosts.map((id) => [id, createTestApp({ ledger: down, clock: systemClock, hostId: id })]),
  );
  const calls: string[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const host = url.hostname;
    calls.push(host);
    const fault = faults[host];
    if (fault === 'refuse') throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    const path = `${url.pathname}${url.search}`;
    if (fault === 'unavailable') return unavailableApps[host]!.request(path, init);
    const response = await apps[host]!.request(path, init);
    if (fault === 'lose-answer') throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
    return response;
  }) as typeof fetch;
  return { ledger, calls, urls: hosts.map((h) => `http://${h}`), fetch: fakeFetch };
}

describe('PaymentsClient', () => {
  it('spreads requests over every host', async () => {
    const f = fleet();
    const client = new PaymentsClient({ hosts: f.urls, fetch: f.fetch });
    for (let i = 0; i < 9; i++) expect((await client.pay(loadPayment('spread', i))).kind).toBe('committed');
    expect(f.calls.filter((h) => h === 'h1')).toHaveLength(3);
    expect(f.calls.filter((h) => h === 'h2')).toHaveLength(3);
  });

  it('fails over from a refusing host and a 503 host to the healthy one, same id, each payment once', async () => {
    const f = fleet({ h1: 'refuse', h2: 'unavailable' });
    const client = new PaymentsClient({ hosts: f.urls, fetch: f.fetch, backoffInitialMs: 1 });
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.pay(loadPayment('failover', i))),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(Array(30).fill('committed'));
    expect(outcomes.some((o) => o.kind === 'committed' && o.attempts > 1)).toBe(true);
    expect(outcomes.every((o) => o.kind === 'committed' && o.host === 'http://h3')).toBe(true);
    const page = await f.ledger.history({ account: 'failover-payer', limit: 1000 });
    expect(page.payments).toHaveLength(30);
  });

  it('a commit whose answer was lost is retried elsewhere and reported as replayed, not paid twice', async () => {
    const f = fleet({ h1: 'lose-answer' });
    const client = new PaymentsClient({ hosts: f.urls, fetch: f.fetch, backoffInitialMs: 1 });
    const outcome = await client.pay(loadPayment('lost', 0));
    expect(outcome).toMatchObject({ kind: 'replayed', attempts: 2, payment: { id: 'lost-0', host: 'h1' } });
    expect((await f.ledger.history({ account: 'lost-payer', limit: 10 })).payments).toHaveLength(1);
  });

  it('reports conflict and rejected without retrying', async () => {
    const f = fleet();
    const client = new PaymentsClient({ hosts: f.urls, fetch: f.fetch });
    await client.pay(loadPayment('c', 0));
    const conflict = await client.pay({ ...loadPayment('c', 0), amount: 999 });
    expect(conflict).toMatchObject({
      kind: 'conflict',
      status: 409,
      attempts: 1,
      error: { code: 'idempotency_conflict' },
    });
    const rejected = await client.pay({ ...loadPayment('c', 1), currency: 'euro' });
    expect(rejected).toMatchObject({
      kind: 'rejected',
      status: 400,
      attempts: 1,
      error: { code: 'invalid_request' },
    });
  });

  it('reads a payment by id and payer, failing over; ambiguous without a payer when two payers used the id', async () => {
    const f = fleet({ h1: 'refuse', h2: 'unavailable' });
    const client = new PaymentsClient({ hosts: f.urls, fetch: f.fetch, backoffInitialMs: 1 });
    const a = { ...loadPayment('read', 0), payer: 'tenant-a' };
    const b = { ...loadPayment('read', 0), payer: 'tenant-b', amount: 77 };
    expect((await client.pay(a)).kind).toBe('committed');
    const alone = await client.get(a.id);
    expect(alone).toMatchObject({ kind: 'found', payment: { payer: 'tenant-a' }, host: 'http://h3' });
    expect((await client.pay(b)).kind).toBe('committed');
    const ambiguous = await client.get(a.id);
    expect(ambiguous).toMatchObject({ kind: 'ambiguous', payers: ['tenant-a', 'tenant-b'] });
    expect(await client.get(a.id, { payer: 'tenant-b' })).toMatchObject({
      kind: 'found',
      payment: { payer: 'tenant-b', amount: 77 },
    });
    expect((await client.get(a.id, { payer: 'tenant-c' })).kind).toBe('not-found');
    expect(await client.get(a.id, { payer: 'bad payer' })).toMatchObject({ kind: 'rejected', status: 400 });
  });

  it('gives up with failed at the deadline when no host can answer', async () => {
    const f = fleet({ h1: 'refuse', h2: 'refuse', h3: 'unavailable' });
    const client = new PaymentsClient({
      hosts: f.urls,
      fetch: f.fetch,
      deadlineMs: 300,
      backoffInitialMs: 10,
      backoffMaxMs: 50,
    });
    const started = performance.now();
    const outcome = await client.pay(loadPayment('dead', 0));
    expect(outcome.kind).toBe('failed');
    expect(outcome.attempts).toBeGreaterThan(1);
    expect(performance.now() - started).toBeLessThan(300 + 200);
  });

  it('discovers the live hosts from GET /hosts, sending its API key', async () => {
    const cluster: ClusterStatusSource = {
      selfId: 'a',
      hosts: () =>
        ['a', 'b', 'c'].map((id) => ({
          id,
          url: `http://${id}`,
          since: '',
          version: '0.1.0',
          alive: id !== 'b',
        })),
      leader: () => undefined,
      isLeader: () => false,
      registered: () => true,
      etcdMembers: async () => [],
    };
    const app = createTestApp({ ledger: new MemoryLedger(), clock: systemClock, hostId: 'a', cluster });
    // The app answers with the key the client sends; none at all must be refused.
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) =>
      app.request(new URL(String(input)).pathname, {
        ...init,
        headers: { authorization: '', ...(init?.headers as Record<string, string>) },
      })) as typeof fetch;
    const keyless = new PaymentsClient({ discoverFrom: ['http://seed'], fetch: fakeFetch });
    await keyless.discover();
    expect(keyless.knownHosts()).toEqual(['http://seed']);
    const client = new PaymentsClient({
      discoverFrom: ['http://seed'],
      fetch: fakeFetch,
      apiKey: app.adminKey,
    });
    await client.discover();
    expect(client.knownHosts()).toEqual(['http://a', 'http://c']);
  });
});

describe('GET /cluster and /ready with cluster membership', () => {
  const source = (registered: boolean): ClusterStatusSource => ({
    selfId: 'h1',
    hosts: () => [
      { id: 'h1', url: 'http://h1', since: '2026-01-01T00:00:00.000Z', version: '0.1.0', alive: true },
    ],
    leader: () => ({ id: 'h1', url: 'http://h1', since: '2026-01-01T00:00:01.000Z', fencingToken: '7' }),
    isLeader: () => true,
    registered: () => registered,
    etcdMembers: async () => [],
    hostDetails: () => ({ clockOffsetMs: 3 }),
  });

  it('/ready is 503 until the host is registered, then 200', async () => {
    const ledger = new MemoryLedger();
    const unregistered = createTestApp({ ledger, clock: systemClock, hostId: 'h1', cluster: source(false) });
    const response = await unregistered.request('/ready');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    const registered = createTestApp({ ledger, clock: systemClock, hostId: 'h1', cluster: source(true) });
    expect((await registered.request('/ready')).status).toBe(200);
  });

  it('/cluster shows hosts (with fields other features add), the leader and etcd members', async () => {
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      cluster: source(true),
    });
    const body = await (await app.request('/cluster')).json();
    expect(body).toEqual({
      self: { id: 'h1', isLeader: true, registered: true },
      hosts: [
        {
          id: 'h1',
          url: 'http://h1',
          since: '2026-01-01T00:00:00.000Z',
          version: '0.1.0',
          alive: true,
          clockOffsetMs: 3,
        },
      ],
      leader: { id: 'h1', url: 'http://h1', since: '2026-01-01T00:00:01.000Z', fencingToken: '7' },
      etcd: { members: [] },
    });
  });
});
