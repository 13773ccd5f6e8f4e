/**
 * The host-wide bound on requests in progress, in-process: a request past the bound is refused at
 * once with 503 `overloaded` and Retry-After (and counted), probes are never refused, and a freed
 * slot is taken again. The handler is held open on a promise, so the bound is reached exactly.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { handleError } from '../../functions/http-errors';
import { limitRequestsInProgress } from '../../functions/middleware/requests-in-progress';
import { createMetrics } from '../../functions/observability/metrics';

function appWithBound(max: number) {
  const metrics = createMetrics();
  const gates: (() => void)[] = [];
  const app = new Hono();
  app.onError(handleError);
  app.use(limitRequestsInProgress({ max, metrics }));
  app.get('/slow', async (c) => {
    await new Promise<void>((resolve) => gates.push(resolve));
    return c.json({ ok: true });
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) => c.text(await metrics.registry.metrics()));
  const releaseAll = () => {
    for (const open of gates.splice(0)) open();
  };
  return { app, metrics, releaseAll, held: () => gates.length };
}

const until = async (probe: () => boolean) => {
  for (let i = 0; i < 100 && !probe(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('limitRequestsInProgress', () => {
  it('refuses a request past the bound at once with 503 overloaded and Retry-After, never a probe', async () => {
    const { app, metrics, releaseAll, held } = appWithBound(2);
    const first = [app.request('/slow'), app.request('/slow')];
    await until(() => held() === 2);
    expect(held()).toBe(2);

    const refused = await app.request('/slow');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(200);
    expect((await metrics.shedRequests.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'requests_in_progress' }, value: 1 }),
    ]);
    expect((await metrics.requestsInProgress.get()).values[0]?.value).toBe(2);

    releaseAll();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect((await metrics.requestsInProgress.get()).values[0]?.value).toBe(0);
    const again = app.request('/slow');
    await until(() => held() === 1);
    releaseAll();
    expect((await again).status).toBe(200);
  });

  it('frees the slot of a request that failed', async () => {
    const app = new Hono();
    app.onError(handleError);
    app.use(limitRequestsInProgress({ max: 1 }));
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/fine', (c) => c.text('ok'));
    expect((await app.request('/boom')).status).toBe(500);
    expect((await app.request('/fine')).status).toBe(200);
  });
});
