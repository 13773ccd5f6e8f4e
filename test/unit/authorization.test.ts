/**
 * The authorization matrix, in-process: every documented route (the route table, functions/routes.ts ROUTES,
 * which test/unit/openapi.test.ts proves covers every route the app serves) × every kind of caller:
 * no key, a wrong key, another tenant's key, the right tenant's key, an admin key. A route added
 * without a row here fails the first test. The same gate runs on real hosts in
 * test/cluster/authorization-cluster.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { HostClock, systemClock } from '../../coordination/clock/clock';
import { HybridClock } from '../../coordination/clock/hlc';
import type { ClusterStatusSource } from '../../coordination/cluster/host-coordination';
import { MemoryEventStore } from '../../coordination/events/event-store';
import { parseApiKey } from '../../functions/auth/api-key';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { ROUTES } from '../../functions/routes';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, type TestApp, testKey } from '../support/test-app';

const CALLERS = ['none', 'wrong', 'otherTenant', 'rightTenant', 'admin'] as const;
type Caller = (typeof CALLERS)[number];

const cluster: ClusterStatusSource = {
  selfId: 'h1',
  hosts: () => [{ id: 'h1', url: 'http://h1', since: '', version: '0.1.0', alive: true }],
  leader: () => undefined,
  isLeader: () => false,
  registered: () => true,
  etcdMembers: async () => [],
};

const tenantPayment = { id: 'pay-1', payer: 'shop-1', payee: 'supplier-9', amount: 1200, currency: 'EUR' };

let app: TestApp;
let keys: Record<Caller, string | undefined>;
let revocable: string;

beforeEach(async () => {
  const right = testKey({ accounts: ['shop-1'] });
  const other = testKey({ accounts: ['shop-2'] });
  const admin = testKey({ scopes: ['admin'] });
  const spare = testKey({ accounts: ['shop-3'] });
  const hostClock = new HostClock();
  app = createTestApp({
    ledger: new MemoryLedger(),
    clock: systemClock,
    hostId: 'h1',
    cluster,
    clocks: { hostClock, hlc: new HybridClock({ clock: hostClock }), eventStore: new MemoryEventStore() },
    apiKeys: new MemoryApiKeyStore([right.record, other.record, admin.record, spare.record]),
  });
  // A key shaped like the right tenant's, with another secret.
  const wrong = `pay_${parseApiKey(right.key)!.id}_${'A'.repeat(43)}`;
  keys = { none: undefined, wrong, otherTenant: other.key, rightTenant: right.key, admin: admin.key };
  revocable = spare.record.id;
  const seeded = await app.request('/payments', json('POST', tenantPayment), undefined);
  expect(seeded.status).toBe(201);
});

function json(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

interface Row {
  request: () => [string, RequestInit];
  /** Expected status per caller. */
  expect: Record<Caller, number>;
}

const OPEN = { none: 200, wrong: 200, otherTenant: 200, rightTenant: 200, admin: 200 };
const ADMIN_ONLY = { none: 401, wrong: 401, otherTenant: 403, rightTenant: 403, admin: 200 };

/** One row per documented route, keyed `METHOD path` as in ROUTES. */
const MATRIX: Record<string, Row> = {
  'GET /health': { request: () => ['/health', {}], expect: OPEN },
  'GET /ready': { request: () => ['/ready', {}], expect: OPEN },
  'GET /openapi.json': { request: () => ['/openapi.json', {}], expect: OPEN },
  'GET /time': { request: () => ['/time', {}], expect: OPEN },
  'GET /dashboard': { request: () => ['/dashboard', {}], expect: OPEN },
  'GET /dashboard/assets/:file': { request: () => ['/dashboard/assets/dashboard.js', {}], expect: OPEN },
  'GET /dashboard/etcd-members': { request: () => ['/dashboard/etcd-members', {}], expect: ADMIN_ONLY },
  'POST /payments': {
    // A new payment from the right tenant's account: only a key acting for shop-1 may make it.
    request: () => ['/payments', json('POST', { ...tenantPayment, id: 'pay-2' })],
    expect: { none: 401, wrong: 401, otherTenant: 403, rightTenant: 201, admin: 403 },
  },
  'GET /payments': {
    request: () => ['/payments?account=shop-1', {}],
    expect: { none: 401, wrong: 401, otherTenant: 403, rightTenant: 200, admin: 200 },
  },
  'GET /payments/:id': {
    // Another tenant gets 404, exactly as for an id that does not exist.
    request: () => ['/payments/pay-1', {}],
    expect: { none: 401, wrong: 401, otherTenant: 404, rightTenant: 200, admin: 200 },
  },
  'GET /hosts': {
    request: () => ['/hosts', {}],
    expect: { none: 401, wrong: 401, otherTenant: 200, rightTenant: 200, admin: 200 },
  },
  'GET /cluster': { request: () => ['/cluster', {}], expect: ADMIN_ONLY },
  'GET /events': { request: () => ['/events', {}], expect: ADMIN_ONLY },
  'GET /metrics': { request: () => ['/metrics', {}], expect: ADMIN_ONLY },
  'POST /time/adjust': {
    request: () => [
      '/time/adjust',
      json('POST', { master: 'h1', deltaMs: 0, errorMs: 1, round: 1, fencingToken: '1' }),
    ],
    expect: ADMIN_ONLY,
  },
  'POST /admin/keys': {
    request: () => ['/admin/keys', json('POST', { accounts: ['shop-9'] })],
    expect: { ...ADMIN_ONLY, admin: 201 },
  },
  'GET /admin/keys': { request: () => ['/admin/keys', {}], expect: ADMIN_ONLY },
  'DELETE /admin/keys/:id': {
    request: () => [`/admin/keys/${revocable}`, { method: 'DELETE' }],
    expect: ADMIN_ONLY,
  },
};

async function call(caller: Caller, [path, init]: [string, RequestInit]): Promise<Response> {
  const headers = new Headers(init.headers);
  // createTestApp sends its own admin key unless told otherwise: '' sends no Authorization at all.
  headers.set('authorization', keys[caller] ? `Bearer ${keys[caller]}` : '');
  return app.request(path, { ...init, headers });
}

describe('authorization matrix', () => {
  it('has a row for every documented route', () => {
    const documented = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(documented);
  });

  for (const [route, row] of Object.entries(MATRIX)) {
    it(`${route}: ${CALLERS.map((c) => `${c} ${row.expect[c]}`).join(', ')}`, async () => {
      const got: Record<string, number> = {};
      for (const caller of CALLERS) got[caller] = (await call(caller, row.request())).status;
      expect(got).toEqual(row.expect);
    });
  }

  it('documents the access rule the gate enforces', () => {
    for (const doc of ROUTES) {
      const row = MATRIX[`${doc.method.toUpperCase()} ${doc.path}`]!;
      expect(row.expect.none === 401, `${doc.method} ${doc.path}`).toBe(doc.access !== 'open');
    }
  });

  it('answers 401 with WWW-Authenticate and the same message for a missing, malformed, unknown or wrong key', async () => {
    const answers = [];
    for (const authorization of [
      '',
      'Bearer nonsense',
      `Bearer pay_${'0'.repeat(16)}_${'A'.repeat(43)}`,
      `Bearer ${keys.wrong}`,
    ]) {
      const response = await app.request('/payments/pay-1', { headers: { authorization } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      answers.push(((await response.json()) as { error: { code: string } }).error.code);
    }
    expect(new Set(answers)).toEqual(new Set(['unauthorized']));
  });

  it('refuses a revoked key at once on this host when the cache is off, and changes nothing on refusal', async () => {
    const ledger = new MemoryLedger();
    const tenant = testKey({ accounts: ['shop-1'] });
    const strict = createTestApp({
      ledger,
      clock: systemClock,
      hostId: 'h1',
      apiKeys: new MemoryApiKeyStore([tenant.record]),
      auth: { cacheTtlMs: 1 },
    });
    const pay = (id: string) =>
      strict.request('/payments', {
        ...json('POST', { ...tenantPayment, id }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.key}` },
      });
    expect((await pay('before')).status).toBe(201);
    expect((await strict.request(`/admin/keys/${tenant.record.id}`, { method: 'DELETE' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    expect((await pay('after')).status).toBe(401);
    expect(await ledger.get('after', 'shop-1')).toBeUndefined();
  });
});

describe('tenants learn nothing about each other through ids', () => {
  const as = (key: string | undefined, init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` },
  });

  it("another tenant's reuse of an id is a payment of its own: 201, never 200 or 409, and each reads its own", async () => {
    const theirs = { ...tenantPayment, payer: 'shop-2' };
    // Same id, other payer, other content: shop-1's payment neither conflicts nor replays.
    const first = await app.request('/payments', as(keys.otherTenant, json('POST', theirs)));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same id and the very same content as shop-1's but for its own payer: still its own.
    const replay = await app.request('/payments', as(keys.otherTenant, json('POST', theirs)));
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { payer: string }).payer).toBe('shop-2');
    const conflict = await app.request(
      '/payments',
      as(keys.otherTenant, json('POST', { ...theirs, amount: 1 })),
    );
    expect(conflict.status).toBe(409);

    const mine = await app.request('/payments/pay-1', as(keys.rightTenant));
    expect(((await mine.json()) as { payer: string; amount: number }).payer).toBe('shop-1');
    const ours = await app.request('/payments/pay-1', as(keys.otherTenant));
    expect(((await ours.json()) as { payer: string }).payer).toBe('shop-2');
  });

  it('a payee reads the payments made to it; an uninvolved tenant gets 404 for the same id', async () => {
    const payee = testKey({ accounts: ['supplier-9'] });
    await app.apiKeys.create(payee.record);
    expect((await app.request('/payments/pay-1', as(payee.key))).status).toBe(200);
    expect((await app.request('/payments?account=supplier-9', as(payee.key))).status).toBe(200);
    expect((await app.request('/payments/pay-1', as(keys.otherTenant))).status).toBe(404);
    expect((await app.request('/payments/no-such-id', as(keys.otherTenant))).status).toBe(404);
  });
});

describe('per-key rate limit', () => {
  it('answers 429 with Retry-After past the key limit, and other keys are unaffected', async () => {
    const slow = testKey({ accounts: ['shop-1'], rateLimitPerSecond: 3 });
    await app.apiKeys.create(slow.record);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.request('/payments/pay-1', as(slow.key))).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await app.request('/payments/pay-1', as(slow.key));
    expect(limited.headers.get('retry-after')).toMatch(/^[12]$/);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await app.request('/payments/pay-1', as(keys.rightTenant))).status).toBe(200);
  });

  function as(key: string | undefined): RequestInit {
    return { headers: { authorization: `Bearer ${key}` } };
  }
});
