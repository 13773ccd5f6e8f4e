/**
 * PaymentsClient's failover logic, in-process: three function apps over one memory ledger, reached
 * through an injected fetch that can refuse connections, answer 503, or lose an answer after the
 * commit. The real-process version of these faults is in test/cluster/host-failover.test.ts.
 */
import { performance } from 'node:perf_hooks';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { PaymentsClient } from '../../client/payments-client';
import { systemClock } from '../../coordination/clock/clock';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';
import {
  type ApiErrorCode,
  ERROR_STATUS_BY_CODE,
  ForbiddenError,
  HostBusyError,
  HttpError,
  handleError,
  KeyBusyError,
  PayloadTooLargeError,
  RateLimitedError,
  RequestTimeoutError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../functions/http-errors';
import {
  AmbiguousPaymentIdError,
  ArchiveUnavailableError,
  ClockOffsetError,
  IdempotencyConflictError,
  InvalidRequestError,
  NotLeaderError,
  OverloadedError,
  PaymentNotFoundError,
  QuorumUnavailableError,
  ResultTooLargeError,
  StaleMasterError,
  StorageFullError,
} from '../../ledger/errors';
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

  it("reads an account's history page by page through nextCursor, failing over", async () => {
    const f = fleet({ h1: 'refuse', h2: 'unavailable' });
    const client = new PaymentsClient({ hosts: f.urls, fetch: f.fetch, backoffInitialMs: 1 });
    for (let i = 0; i < 5; i++) expect((await client.pay(loadPayment('pages', i))).kind).toBe('committed');
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const outcome = await client.history('pages-payer', { limit: 2, cursor });
      if (outcome.kind !== 'page') throw new Error(`expected a page, got ${JSON.stringify(outcome)}`);
      expect(outcome.host).toBe('http://h3');
      ids.push(...outcome.payments.map((p) => p.id));
      if (!outcome.nextCursor) break;
      cursor = outcome.nextCursor;
    }
    expect(ids).toEqual(['pages-0', 'pages-1', 'pages-2', 'pages-3', 'pages-4']);
    expect(await client.history('pages-payer', { limit: 0 })).toMatchObject({
      kind: 'rejected',
      status: 400,
    });
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

  it('a stale cluster view (a watch lost to compaction, being rebuilt): /ready is 503 naming the view', async () => {
    const stale = { ...source(true), staleViews: () => ['membership'] };
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      cluster: stale,
    });
    const response = await app.request('/ready');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(await response.text()).toContain('membership');
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

  /**
   * The retry decision for every code of the error table, as a host answers it through the one
   * error handler: retried (same id, next host) exactly when the error carries the Retryable mark.
   * Typed by the table, so a new code does not compile until its decision is pinned here.
   */
  const RETRY_BY_CODE: Record<ApiErrorCode, { error: Error; retried: boolean }[]> = {
    invalid_request: [{ error: new InvalidRequestError('bad amount'), retried: false }],
    unauthorized: [{ error: new UnauthorizedError(), retried: false }],
    forbidden: [{ error: new ForbiddenError('not your account'), retried: false }],
    not_found: [{ error: new PaymentNotFoundError('p1'), retried: false }],
    idempotency_conflict: [{ error: new IdempotencyConflictError('p1', 'alice'), retried: false }],
    ambiguous_payment_id: [{ error: new AmbiguousPaymentIdError('p1', ['a', 'b']), retried: false }],
    stale_master: [{ error: new StaleMasterError('h2', 'h1'), retried: false }],
    // A slow body timed out (issue 17 §1): nothing was written, send it again.
    request_timeout: [{ error: new RequestTimeoutError(10_000), retried: true }],
    payload_too_large: [{ error: new PayloadTooLargeError(65536), retried: false }],
    unsupported_media_type: [{ error: new UnsupportedMediaTypeError('text/plain'), retried: false }],
    // Not on another host at once: that would only spread the excess (wait Retry-After instead).
    rate_limited: [{ error: new RateLimitedError(1000, 1), retried: false }],
    headers_too_large: [{ error: new HttpError('headers_too_large', 'headers too large'), retried: false }],
    unavailable: [
      { error: new QuorumUnavailableError('no quorum'), retried: true },
      { error: new ClockOffsetError('not synchronized'), retried: true },
      { error: new NotLeaderError('deposed'), retried: false },
    ],
    overloaded: [
      { error: new OverloadedError(512), retried: true },
      { error: new HostBusyError(128), retried: true },
      { error: new KeyBusyError(64), retried: true },
    ],
    storage_full: [{ error: new StorageFullError('etcd n1 past the high-water mark'), retried: true }],
    archive_unavailable: [{ error: new ArchiveUnavailableError('PostgreSQL down'), retried: true }],
    // Payments never change, so the same read fails the same way on every host (issue 17 §2).
    result_too_large: [{ error: new ResultTooLargeError('history'), retried: false }],
    internal: [{ error: new Error('a bug of ours'), retried: false }],
  };

  it('covers every code of the error table', () => {
    expect(Object.keys(RETRY_BY_CODE).sort()).toEqual(Object.keys(ERROR_STATUS_BY_CODE).sort());
  });

  for (const [code, cases] of Object.entries(RETRY_BY_CODE)) {
    for (const { error, retried } of cases) {
      it(`${retried ? 'retries' : 'does not retry'} ${code} (${error.constructor.name}), with the same id on the next host`, async () => {
        // The first host answers with the error, the second commits.
        const failing = new Hono().onError(handleError).all('*', () => {
          throw error;
        });
        const calls: { host: string; body: string }[] = [];
        const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
          const url = new URL(String(input));
          calls.push({ host: url.hostname, body: String(init?.body) });
          if (calls.length === 1) return failing.request(url.pathname, init);
          return new Response(init?.body as string, { status: 201 });
        }) as typeof fetch;
        const client = new PaymentsClient({
          hosts: ['http://h1', 'http://h2'],
          fetch: fakeFetch,
          backoffInitialMs: 1,
        });
        const request = { id: 'p1', payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' };
        const outcome = await client.pay(request);
        if (retried) {
          expect(outcome).toMatchObject({ kind: 'committed', attempts: 2, host: 'http://h2' });
          expect(calls.map((c) => c.host)).toEqual(['h1', 'h2']);
          expect(calls[1]!.body).toBe(calls[0]!.body);
        } else {
          expect(outcome.kind).not.toBe('committed');
          expect(outcome.attempts).toBe(1);
          expect(calls).toHaveLength(1);
        }
      });
    }
  }

  it('retries an attempt that got no answer, and reports a give-up as indeterminate only if one may have arrived', async () => {
    const refused = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof fetch;
    const hungUp = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('socket hang up') });
    }) as typeof fetch;
    const request = { id: 'p1', payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' };
    const options = { hosts: ['http://h1', 'http://h2'], backoffInitialMs: 1, maxAttempts: 3 };
    const never = await new PaymentsClient({ ...options, fetch: refused }).pay(request);
    expect(never).toMatchObject({ kind: 'failed', attempts: 3, indeterminate: false });
    const maybe = await new PaymentsClient({ ...options, fetch: hungUp }).pay(request);
    expect(maybe).toMatchObject({ kind: 'failed', attempts: 3, indeterminate: true });
  });
});
