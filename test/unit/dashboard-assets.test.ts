/** The dashboard page and every file it loads are served from this checkout (no CDN), in-process. */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { ASSETS } from '../../functions/dashboard/routes';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

const app = createTestApp({ ledger: new MemoryLedger(), clock: systemClock, hostId: 'h-test' });

describe('GET /dashboard', () => {
  it('serves the page, whose every script and stylesheet is a served asset', async () => {
    const page = await app.request('/dashboard');
    expect(page.status).toBe(200);
    const html = await page.text();
    const referenced = [...html.matchAll(/\/dashboard\/assets\/([\w.-]+)/g)].map((m) => m[1]!);
    expect(referenced.length).toBeGreaterThanOrEqual(6);
    expect(html).not.toMatch(/https?:\/\//); // nothing from the network
    for (const name of new Set([...referenced, ...Object.keys(ASSETS)])) {
      const asset = await app.request(`/dashboard/assets/${name}`);
      expect(asset.status, name).toBe(200);
      expect((await asset.text()).length, name).toBeGreaterThan(100);
    }
  });

  it('answers 404 for files it does not serve', async () => {
    expect((await app.request('/dashboard/assets/..%2Fpackage.json')).status).toBe(404);
    expect((await app.request('/dashboard/assets/secrets.js')).status).toBe(404);
  });

  it('answers 404, not 500, for names every object has (constructor, toString, __proto__)', async () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      expect((await app.request(`/dashboard/assets/${name}`)).status, name).toBe(404);
    }
  });

  it('reports no etcd members when the host knows no endpoints', async () => {
    const answer = await app.request('/dashboard/etcd-members');
    expect(await answer.json()).toEqual({ members: [] });
  });
});
