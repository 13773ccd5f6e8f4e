/**
 * API keys on real host processes over real etcd: a key created through one host works on every
 * host, a revoked one stops working on every host within 2 s, tenants are kept apart, and a
 * key's rate limit answers 429. The full route × caller matrix runs in-process in
 * test/unit/authorization.test.ts over the same gate.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../dev/cluster/http';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
let urls: string[];

beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 3 });
  urls = cluster.fleet.urls();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

const bearer = (key: string | undefined) => ({ authorization: key ? `Bearer ${key}` : '' });

async function createKey(
  hostUrl: string,
  grant: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const created = await request<{ id: string; key: string }>(`${hostUrl}/admin/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(grant),
  });
  expect(created.status).toBe(201);
  return created.body;
}

function pay(hostUrl: string, key: string | undefined, payment: Record<string, unknown>) {
  return request(`${hostUrl}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    body: JSON.stringify({ amount: 100, currency: 'EUR', payee: 'supplier', ...payment }),
  });
}

describe('API keys across hosts', () => {
  it('refuses requests without a key on every host, while /health and /ready stay open', async () => {
    for (const url of urls) {
      expect((await pay(url, undefined, { id: 'no-key', payer: 'shop-1' })).status).toBe(401);
      expect((await request(`${url}/cluster`, { headers: bearer(undefined) })).status).toBe(401);
      expect((await request(`${url}/health`, { headers: bearer(undefined) })).status).toBe(200);
      expect((await request(`${url}/ready`, { headers: bearer(undefined) })).status).toBe(200);
    }
  });

  it('a key created on one host works on the others, and only for its accounts', async () => {
    const [h1, h2, h3] = urls as [string, string, string];
    const shop1 = await createKey(h1, { accounts: ['shop-1'] });
    const shop2 = await createKey(h1, { accounts: ['shop-2'] });
    expect((await pay(h2, shop1.key, { id: 'across-1', payer: 'shop-1' })).status).toBe(201);
    expect((await pay(h3, shop1.key, { id: 'across-2', payer: 'shop-2' })).status).toBe(403);
    expect((await request(`${h3}/payments/across-1`, { headers: bearer(shop1.key) })).status).toBe(200);
    expect((await request(`${h3}/payments/across-1`, { headers: bearer(shop2.key) })).status).toBe(404);
    expect((await request(`${h2}/payments?account=shop-1`, { headers: bearer(shop2.key) })).status).toBe(403);
    expect((await request(`${h2}/cluster`, { headers: bearer(shop1.key) })).status).toBe(403);
    const listed = await request<{ keys: { id: string }[] }>(`${h3}/admin/keys`);
    expect(listed.body.keys.map((k) => k.id)).toEqual(expect.arrayContaining([shop1.id, shop2.id]));
    expect(listed.text).not.toContain(shop1.key.slice(-43));
  });

  it('a revoked key stops working on every host within 2 s', async () => {
    const tenant = await createKey(urls[0]!, { accounts: ['shop-r'] });
    expect((await pay(urls[0]!, tenant.key, { id: 'revoke-me', payer: 'shop-r' })).status).toBe(201);
    // Every host has verified (and cached) the key before it is revoked.
    for (const url of urls) {
      expect((await request(`${url}/payments/revoke-me`, { headers: bearer(tenant.key) })).status).toBe(200);
    }
    const revoked = await request(`${urls[1]!}/admin/keys/${tenant.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    const since = performance.now();
    const refusedAfter = await Promise.all(
      urls.map(async (url) => {
        for (;;) {
          const answer = await request(`${url}/payments/revoke-me`, { headers: bearer(tenant.key) });
          if (answer.status === 401) return performance.now() - since;
          expect(answer.status).toBe(200);
          if (performance.now() - since > 5000) return Number.POSITIVE_INFINITY;
          await new Promise((r) => setTimeout(r, 25));
        }
      }),
    );
    console.log(`revocation took effect after ${refusedAfter.map((ms) => ms.toFixed(0)).join(' / ')} ms`);
    for (const ms of refusedAfter) expect(ms).toBeLessThan(2000);
    for (const url of urls)
      expect((await pay(url, tenant.key, { id: 'after', payer: 'shop-r' })).status).toBe(401);
  });

  it("answers 429 with Retry-After past a key's rate limit", async () => {
    const limited = await createKey(urls[0]!, { accounts: ['shop-l'], rateLimitPerSecond: 5 });
    // 20 at once: within one second a host lets 5 through (10 if the burst straddles a window).
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => request(`${urls[2]!}/hosts`, { headers: bearer(limited.key) })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
