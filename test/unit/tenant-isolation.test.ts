/**
 * One tenant cannot lock the others out of a host (issue 17 §1), in-process: a slow body is cut
 * off with 408, one key holds at most its share of the requests in progress, and a flood of
 * made-up keys from one address stops reaching the key store. The same attack on a real host:
 * test/cluster/tenant-isolation.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import type { ApiKeyRecord } from '../../functions/auth/api-key-record';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, testKey } from '../support/test-app';

const payment = (id: string, payer: string) =>
  JSON.stringify({ id, payer, payee: 'shop-1', amount: 100, currency: 'EUR' });

/** A body that sends its first byte and then nothing, until `release()`. */
function stalledBody(text: string) {
  let release = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text.slice(0, 1)));
      release = () => {
        controller.enqueue(new TextEncoder().encode(text.slice(1)));
        controller.close();
      };
    },
  });
  return { body, release: () => release() };
}

function postAs(
  app: ReturnType<typeof createTestApp>,
  key: string,
  body: string | ReadableStream<Uint8Array>,
) {
  return app.request('/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
    duplex: 'half',
  } as RequestInit);
}

describe('slow request bodies (slowloris on the body)', () => {
  it('answers a body that stalls past the deadline with 408 request_timeout, retryable', async () => {
    const a = testKey({ accounts: ['tenant-a'] });
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      apiKeys: new MemoryApiKeyStore([a.record]),
      bodyTimeoutMs: 200,
    });
    const started = performance.now();
    const response = await Promise.race([
      postAs(app, a.key, stalledBody(payment('slow-1', 'tenant-a')).body),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000)),
    ]);
    expect(response?.status, 'a stalled body was still held after 3 s').toBe(408);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(((await response!.json()) as { error: { code: string } }).error.code).toBe('request_timeout');
    expect(response!.headers.get('retry-after')).toBe('1');
  });
});

describe("one key's share of the requests in progress", () => {
  it("a key holding every slot with stalled bodies does not lock another key's payments out", async () => {
    const [a, b] = [testKey({ accounts: ['tenant-a'] }), testKey({ accounts: ['tenant-b'] })];
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      apiKeys: new MemoryApiKeyStore([a.record, b.record]),
      maxRequestsInProgress: 8,
    });
    const stalled = Array.from({ length: 8 }, (_, i) => stalledBody(payment(`a-${i}`, 'tenant-a')));
    const attacker = stalled.map((s) => postAs(app, a.key, s.body));
    await new Promise((r) => setTimeout(r, 50));
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await postAs(app, b.key, payment(`b-${i}`, 'tenant-b'))).status);
    expect(statuses).toEqual([201, 201, 201, 201]);
    for (const s of stalled) s.release();
    const held = (await Promise.all(attacker)).map((r) => r.status).sort();
    // Half the slots (4) are the attacker's share; its other requests were shed at once.
    expect(held).toEqual([201, 201, 201, 201, 503, 503, 503, 503]);
  });
});

describe('failed authentications per client address', () => {
  it('a flood of made-up key ids reads the key store at most the limit, then gets 429 before any read', async () => {
    let reads = 0;
    const admin = testKey({ scopes: ['admin'], accounts: ['*'] });
    const store = new MemoryApiKeyStore([admin.record]);
    const counting = Object.assign(Object.create(store) as MemoryApiKeyStore, {
      get: (id: string): Promise<ApiKeyRecord | undefined> => {
        reads += 1;
        return store.get(id);
      },
    });
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      apiKeys: counting,
      auth: { failedAuthPerAddressPerSecond: 5 },
    });
    const asAdmin = () =>
      app.request('/payments?account=x', { headers: { authorization: `Bearer ${admin.key}` } });
    expect((await asAdmin()).status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 40; i++) {
      const made = `pay_${i.toString(16).padStart(16, '0')}_${'A'.repeat(43)}`;
      statuses.push((await app.request('/hosts', { headers: { authorization: `Bearer ${made}` } })).status);
    }
    expect(reads).toBeLessThanOrEqual(1 + 6);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(-10)).toEqual(Array(10).fill(429));
    // A key verified within the cache's second keeps working from the same address.
    expect((await asAdmin()).status).toBe(200);
  });
});
