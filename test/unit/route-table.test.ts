/**
 * The route table (functions/routes.ts) is the one declaration of the routes: what the app mounts,
 * what /openapi.json documents and what the key gate lets through without a key must all be
 * exactly the table's. The authorization matrix (authorization.test.ts) checks each route's
 * answers per caller; this checks that the three derived views agree with the table and each other.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { ApiKeyAuthenticator } from '../../functions/auth/api-key-authenticator';
import { KeyRateLimiter } from '../../functions/auth/key-rate-limiter';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { handleError } from '../../functions/http-errors';
import { requireApiKey } from '../../functions/middleware/require-api-key';
import { openApiPath } from '../../functions/openapi';
import type { RouteSpec } from '../../functions/route-spec';
import { isOpenRoute, ROUTES } from '../../functions/routes';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, quietCluster, testClocks } from '../support/test-app';

// With a cluster and clocks, so that every route of the table is mounted.
const app = createTestApp({
  ledger: new MemoryLedger(),
  clock: systemClock,
  hostId: 'h-table',
  cluster: quietCluster('h-table'),
  clocks: testClocks(),
});

const key = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;
const table = ROUTES.map(key).sort();
/** A concrete path for a pattern: `/payments/:id` → `/payments/x`. */
const samplePath = (pattern: string) => pattern.replace(/:\w+/g, 'x');

interface Operation {
  security: unknown[];
}

describe('the route table', () => {
  it('declares each method and path once', () => {
    expect(new Set(table).size).toBe(table.length);
  });

  it('is exactly what the app mounts', () => {
    // Middleware is registered with method ALL; each route mounts its chain under one method and path.
    const mounted = [...new Set(app.routes.filter((r) => r.method !== 'ALL').map(key))].sort();
    expect(mounted).toEqual(table);
  });

  it('is exactly what /openapi.json documents, keyless exactly where it is open', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((r) => key({ ...r, path: openApiPath(r.path) })).sort());
    for (const route of ROUTES) {
      const op = doc.paths[openApiPath(route.path)]![route.method]!;
      expect(op.security.length === 0, key(route)).toBe(route.access === 'open');
    }
  });

  it("opens the gate for the table's open routes and no others", async () => {
    for (const route of ROUTES) {
      const path = samplePath(route.path);
      const method = route.method.toUpperCase();
      expect(isOpenRoute(method, path), key(route)).toBe(route.access === 'open');
      if (method === 'GET')
        expect(isOpenRoute('HEAD', path), `HEAD ${route.path}`).toBe(route.access === 'open');
      // And the mounted app agrees: without a key, only an open route gets past the gate.
      const answer = await app.request(path, { method, headers: { authorization: '' } });
      expect(answer.status === 401, key(route)).toBe(route.access !== 'open');
    }
    const open = ROUTES.filter((r) => r.access === 'open');
    for (const [method, path] of [
      ['POST', '/health'],
      ['DELETE', '/openapi.json'],
      ['GET', '/health/x'],
      ['GET', '/healthz'],
      ['GET', '/openapi-json'],
      ['GET', '/dashboard/assets/a/b'],
      ['GET', '/dashboard/etcd-members'],
      ['GET', '/nope'],
    ] as const) {
      expect(isOpenRoute(method, path), `${method} ${path}`).toBe(false);
      expect((await app.request(path, { method, headers: { authorization: '' } })).status).toBe(401);
    }
    expect(open.length).toBeGreaterThan(0);
  });

  it('keeps the gate closed when it is given no open routes', async () => {
    const closed = new Hono();
    closed.onError(handleError);
    const apiKeys = new MemoryApiKeyStore();
    closed.use(
      requireApiKey({ authenticator: new ApiKeyAuthenticator(apiKeys), rateLimiter: new KeyRateLimiter() }),
    );
    closed.get('/health', (c) => c.text('ok'));
    expect((await closed.request('/health')).status).toBe(401);
  });

  it('does not compile a route without an access level', () => {
    const route = {
      method: 'get',
      path: '/unguarded',
      summary: 'a route someone forgot to classify',
      responses: { 200: { description: 'ok' } },
      handler: () => undefined,
    } as const;
    // @ts-expect-error: `access` is required (tsc --noEmit fails if this ever compiles).
    const spec: RouteSpec = route;
    expect(spec.access).toBeUndefined();
  });
});
