/**
 * The HTTP contract of the payment functions, in-process (`app.request`, as Hono's own tests do)
 * over the in-memory ledger. The same routes run against real etcd in cluster-payments.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../coordination/clock/clock';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { OverloadedError } from '../../ledger/errors';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, testKey } from '../support/test-app';

let ledger: MemoryLedger;
let app: ReturnType<typeof createTestApp>;
const fixedClock: Clock = { now: () => Date.parse('2026-03-04T05:06:07.890Z') };

beforeEach(() => {
  ledger = new MemoryLedger();
  app = createTestApp({ ledger, clock: fixedClock, hostId: 'h-test' });
});

const valid = { id: 'pay_1', payer: 'alice', payee: 'bob', amount: 1999, currency: 'EUR' };

function post(body: unknown, headers: Record<string, string> = {}) {
  return app.request('/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function errorOf(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  return (
    (await response.json()) as { error: { code: string; message: string; details?: { field: string }[] } }
  ).error;
}

describe('POST /payments', () => {
  it('refuses a metadata key __proto__ with 400 instead of dropping it', async () => {
    const response = await post(
      `{"id":"proto-1","payer":"a","payee":"b","amount":1,"currency":"EUR","metadata":{"__proto__":"x"}}`,
    );
    expect(response.status).toBe(400);
    expect((await errorOf(response)).details?.map((d) => d.field)).toEqual(['metadata.__proto__']);
    expect(await ledger.get('proto-1', 'a')).toBeUndefined();
  });

  it('answers a body nested thousands deep with 400, not a 500 from a recursive walk', async () => {
    const deep = `${'['.repeat(30_000)}{"__proto__":"x"}${']'.repeat(30_000)}`;
    const response = await post(
      `{"id":"deep-1","payer":"a","payee":"b","amount":1,"currency":"EUR","metadata":${deep}}`,
    );
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('invalid_request');
  });

  it('commits a payment with 201 and the stored fields', async () => {
    const response = await post({ ...valid, description: 'order 7', metadata: { order: '7' } });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      ...valid,
      description: 'order 7',
      metadata: { order: '7' },
      committedAt: '2026-03-04T05:06:07.890Z',
      sequence: expect.any(Number),
      host: 'h-test',
    });
  });

  it('replays the same id and content with 200, byte-identical, and the replay header', async () => {
    const first = await (await post(valid)).text();
    const again = await post({ ...valid });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(first);
  });

  it('answers 409 for the same id with other content and keeps the stored payment', async () => {
    const first = await (await post(valid)).text();
    const conflict = await post({ ...valid, amount: 2000 });
    expect(conflict.status).toBe(409);
    expect((await errorOf(conflict)).code).toBe('idempotency_conflict');
    expect(await (await app.request('/payments/pay_1')).text()).toBe(first);
  });

  it('takes the id from the Idempotency-Key header, and insists they agree when both are given', async () => {
    const { id: _omit, ...withoutId } = valid;
    expect((await post(withoutId, { 'idempotency-key': 'hdr-1' })).status).toBe(201);
    expect((await app.request('/payments/hdr-1')).status).toBe(200);
    const mismatch = await post(valid, { 'idempotency-key': 'other' });
    expect(mismatch.status).toBe(400);
    expect((await errorOf(mismatch)).details?.[0]?.field).toBe('id');
    expect((await post(withoutId)).status).toBe(400);
  });

  it.each([
    ['id', { id: 'has space' }],
    ['id', { id: 'x'.repeat(129) }],
    ['id', { id: '../etc' }],
    ['amount', { amount: 0 }],
    ['amount', { amount: -5 }],
    ['amount', { amount: 1.5 }],
    ['amount', { amount: 10 ** 15 + 1 }],
    ['amount', { amount: '100' }],
    ['currency', { currency: 'eur' }],
    ['currency', { currency: 'EURO' }],
    ['payer', { payer: '' }],
    ['payee', { payee: 'alice' }],
    ['metadata.k', { metadata: { k: 1 } }],
    ['metadata', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ['surprise', { surprise: true }],
  ])('rejects a bad %s with 400 naming the field', async (field, override) => {
    const response = await post({ ...valid, ...override });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe('invalid_request');
    expect(error.details?.map((d) => d.field)).toContain(field);
    expect((await app.request('/payments/pay_1')).status).toBe(404);
  });

  it('accepts the largest amount', async () => {
    expect((await post({ ...valid, amount: 10 ** 15 })).status).toBe(201);
  });

  it.each(['{"id":', 'not json', '', 'null', '[]', '42'])('rejects the body %j with 400', async (body) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('invalid_request');
  });

  it.each([
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ])('rejects content type %s with 415', async (contentType) => {
    const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
    const response = await app.request('/payments', { method: 'POST', headers, body: JSON.stringify(valid) });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).code).toBe('unsupported_media_type');
  });

  it('accepts application/json with a charset', async () => {
    expect((await post(valid, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
  });

  it('rejects a body over 64 KiB with 413, with or without a content length', async () => {
    const big = JSON.stringify({ ...valid, description: 'x'.repeat(70 * 1024) });
    const response = await post(big);
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe('payload_too_large');
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await app.request('/payments', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await app.request('/payments/pay_1')).status).toBe(404);
  });

  it('answers 503 with Retry-After when the ledger has no quorum, and commits nothing', async () => {
    ledger.unavailable = true;
    const response = await post(valid);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect((await errorOf(response)).code).toBe('unavailable');
    ledger.unavailable = false;
    expect((await app.request('/payments/pay_1')).status).toBe(404);
  });
});

describe('overload', () => {
  it('answers a shed payment with 503 overloaded and Retry-After', async () => {
    const shedding = new MemoryLedger();
    shedding.commit = async () => {
      throw new OverloadedError(10_000);
    };
    const busy = createTestApp({ ledger: shedding, clock: fixedClock, hostId: 'h-busy' });
    const response = await busy.request('/payments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(valid),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect((await errorOf(response)).code).toBe('overloaded');
  });
});

describe('GET /payments/:id', () => {
  it('returns 404 JSON for an unknown id and 400 for an impossible one', async () => {
    const missing = await app.request('/payments/nope');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('not_found');
    expect((await app.request(`/payments/${'x'.repeat(200)}`)).status).toBe(400);
    expect((await app.request('/payments/%E2%9C%93')).status).toBe(400);
  });
});

describe('one id under several payers', () => {
  const tenantA = { ...valid, id: 'order-1', payer: 'tenant-a', payee: 'shop' };
  const tenantB = { ...valid, id: 'order-1', payer: 'tenant-b', payee: 'shop', amount: 5 };

  it('commits the same id under another payer as a new payment, not a replay or a conflict', async () => {
    const a = await post(tenantA);
    const b = await post(tenantB);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(((await b.json()) as { amount: number }).amount).toBe(5);
  });

  it('replays and conflicts within the payer only', async () => {
    const first = await (await post(tenantA)).text();
    expect((await post(tenantB)).status).toBe(201);
    const replay = await post(tenantA);
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe(first);
    const conflict = await post({ ...tenantB, amount: tenantA.amount });
    expect(conflict.status).toBe(409);
    const error = await errorOf(conflict);
    expect(error.code).toBe('idempotency_conflict');
    // The conflict is with tenant b's own payment: nothing about tenant a's use of the id.
    expect(error.message).not.toContain('tenant-a');
  });

  it('reads by id and payer, and by id alone while only one payer used it', async () => {
    const a = await (await post(tenantA)).text();
    expect(await (await app.request('/payments/order-1')).text()).toBe(a);
    expect(await (await app.request('/payments/order-1?payer=tenant-a')).text()).toBe(a);
    const missing = await app.request('/payments/order-1?payer=tenant-b');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('not_found');
    const b = await (await post(tenantB)).text();
    expect(await (await app.request('/payments/order-1?payer=tenant-b')).text()).toBe(b);
    expect(await (await app.request('/payments/order-1?payer=tenant-a')).text()).toBe(a);
  });

  it('answers an id used by several payers, asked without a payer, with 409 ambiguous_payment_id', async () => {
    await post(tenantA);
    await post(tenantB);
    const response = await app.request('/payments/order-1');
    expect(response.status).toBe(409);
    const error = await errorOf(response);
    expect(error.code).toBe('ambiguous_payment_id');
    expect(error.message).toMatch(/\?payer=/);
    expect(error.details).toEqual([
      { field: 'payer', message: 'tenant-a' },
      { field: 'payer', message: 'tenant-b' },
    ]);
  });

  it.each(['', 'a/b', 'x'.repeat(129), '%E2%9C%93'])('rejects the payer %j with 400', async (payer) => {
    await post(tenantA);
    const response = await app.request(`/payments/order-1?payer=${payer}`);
    expect(response.status).toBe(400);
    expect((await errorOf(response)).details?.map((d) => d.field)).toEqual(['payer']);
  });

  it("counts only the payments the caller's API key may read", async () => {
    const keys = {
      a: testKey({ accounts: ['tenant-a'] }),
      b: testKey({ accounts: ['tenant-b'] }),
      c: testKey({ accounts: ['tenant-c'] }),
    };
    const scoped = createTestApp({
      ledger,
      clock: fixedClock,
      hostId: 'h-test',
      apiKeys: new MemoryApiKeyStore(Object.values(keys).map((k) => k.record)),
    });
    await post(tenantA);
    await post(tenantB);
    const as = (tenant: keyof typeof keys, path: string) =>
      scoped.request(path, { headers: { authorization: `Bearer ${keys[tenant].key}` } });
    // Each tenant sees its own payment by id alone: the other's use of the id is not revealed.
    expect(((await (await as('a', '/payments/order-1')).json()) as { amount: number }).amount).toBe(
      tenantA.amount,
    );
    expect(((await (await as('b', '/payments/order-1')).json()) as { amount: number }).amount).toBe(5);
    // Someone else's payment is a 404, named by payer or not.
    expect((await as('c', '/payments/order-1')).status).toBe(404);
    expect((await as('a', '/payments/order-1?payer=tenant-b')).status).toBe(404);
  });
});

describe('GET /payments (history)', () => {
  async function commitMany(n: number, payer = 'shop') {
    for (let i = 0; i < n; i++) await post({ ...valid, id: `h-${payer}-${i}`, payer });
  }

  it('lists an account in commit order with an opaque cursor', async () => {
    await commitMany(5);
    const ids: string[] = [];
    let url = '/payments?account=shop&limit=2';
    for (let pages = 0; pages < 5; pages++) {
      const body = (await (await app.request(url)).json()) as {
        payments: { id: string }[];
        nextCursor: string | null;
      };
      ids.push(...body.payments.map((p) => p.id));
      if (!body.nextCursor) break;
      url = `/payments?account=shop&limit=2&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(ids).toEqual(['h-shop-0', 'h-shop-1', 'h-shop-2', 'h-shop-3', 'h-shop-4']);
  });

  it('defaults to 100 per page', async () => {
    await commitMany(101);
    const body = (await (await app.request('/payments?account=shop')).json()) as {
      payments: unknown[];
      nextCursor: string;
    };
    expect(body.payments).toHaveLength(100);
    expect(body.nextCursor).toEqual(expect.any(String));
  });

  it('filters by committedAt with ISO-8601 bounds', async () => {
    await commitMany(2);
    const inside = await app.request('/payments?account=shop&from=2026-03-04&to=2026-03-04T07:00:00%2B01:00');
    expect(((await inside.json()) as { payments: unknown[] }).payments).toHaveLength(2);
    const outside = await app.request('/payments?account=shop&from=2026-03-04T05:06:07.891Z');
    expect(((await outside.json()) as { payments: unknown[] }).payments).toHaveLength(0);
  });

  it.each([
    ['account', ''],
    ['account', 'account=a/b'],
    ['from', 'account=a&from=yesterday'],
    ['from', 'account=a&from=2026-13-45'],
    ['from', 'account=a&from=2026-02-30'],
    ['to', 'account=a&to=2026-01-01T24:00:00Z'],
    ['to', 'account=a&to=12345'],
    ['from', 'account=a&from=2026-02-01&to=2026-01-01'],
    ['limit', 'account=a&limit=0'],
    ['limit', 'account=a&limit=1001'],
    ['limit', 'account=a&limit=ten'],
    ['cursor', 'account=a&cursor=bogus'],
  ])('rejects a bad %s with 400', async (field, query) => {
    const response = await app.request(`/payments?${query}`);
    expect(response.status).toBe(400);
    expect((await errorOf(response)).details?.map((d) => d.field)).toContain(field);
  });
});

describe('health and readiness', () => {
  it('reports health always, and readiness only with a quorum', async () => {
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/ready')).status).toBe(200);
    ledger.unavailable = true;
    expect((await app.request('/health')).status).toBe(200);
    const notReady = await app.request('/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('retry-after')).toBe('1');
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const response = await app.request('/nowhere');
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('not_found');
  });
});
