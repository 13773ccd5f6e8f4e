/**
 * The bad-input sweep, in-process over MemoryLedger: thousands of random and malformed requests
 * at every endpoint. Each gets the answer its case demands (a 4xx JSON error for every flaw),
 * nothing throws out of the app, and only a valid POST ever reaches the ledger's commit.
 * The same cases run against real hosts and etcd in bad-input-sweep-cluster.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../coordination/clock/clock';
import type { CommitContext, PaymentLedger } from '../../ledger/ledger';
import { MemoryLedger } from '../../ledger/memory-ledger';
import type { PaymentIntent } from '../../ledger/payment';
import {
  getByIdCases,
  historyCases,
  otherRouteCases,
  PROTOTYPE_NAMES,
  postCases,
  routeMethodCases,
  SEED_PAYMENTS,
  type SweepCase,
  sweepCases,
} from '../support/bad-input';
import { judge } from '../support/sweep-assertions';
import { createTestApp, quietCluster, testClocks } from '../support/test-app';

const clock: Clock = { now: () => Date.parse('2026-03-04T05:06:07.890Z') };
let counter = 0;
const uniq = () => `u${++counter}-`;

/** A fresh seeded ledger whose commits are counted. */
async function seededLedger() {
  const memory = new MemoryLedger();
  for (const p of SEED_PAYMENTS)
    await memory.commit(p, { host: 'seed', committedAt: '2026-01-01T00:00:00.000Z' });
  const commits: PaymentIntent[] = [];
  const ledger: PaymentLedger = {
    commit: (intent: PaymentIntent, context: CommitContext) => {
      commits.push(intent);
      return memory.commit(intent, context);
    },
    get: (id, payer) => memory.get(id, payer),
    findById: (id) => memory.findById(id),
    history: (q) => memory.history(q),
    ping: () => memory.ping(),
    close: () => memory.close(),
  };
  return { ledger, commits, memory };
}

/** A fresh app over a seeded ledger whose commits are counted. */
async function seededApp() {
  const { ledger, commits, memory } = await seededLedger();
  return { app: createTestApp({ ledger, clock, hostId: 'h-sweep' }), commits, memory };
}

/**
 * One app for the whole sweep, over a ledger swapped for a freshly seeded one before every case:
 * building an app costs ~15 ms, a request ~1 ms, and the sweep sends thousands. The app keeps no
 * per-request state that could carry one case's answer into the next (its key is unlimited).
 */
let current = await seededLedger();
const sweepApp = createTestApp({
  ledger: {
    commit: (intent, context) => current.ledger.commit(intent, context),
    get: (id, payer) => current.ledger.get(id, payer),
    findById: (id) => current.ledger.findById(id),
    history: (q) => current.ledger.history(q),
    ping: () => current.ledger.ping(),
    close: () => current.ledger.close(),
  },
  clock,
  hostId: 'h-sweep',
});

async function run(c: SweepCase): Promise<void> {
  current = await seededLedger();
  const { commits, memory } = current;
  const app = sweepApp;
  const response = await app.request(c.path, { method: c.method, headers: c.headers, body: c.body });
  judge(c, {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text: await response.text(),
  });
  if (c.expected.kind === 'created') {
    expect(commits).toHaveLength(1);
    expect(await memory.get(c.expected.intent.id, c.expected.intent.payer)).toBeDefined();
  } else {
    expect(commits, `${c.label} reached the ledger`).toEqual([]);
  }
  // The seed is untouched whatever was sent.
  for (const p of SEED_PAYMENTS) expect((await memory.get(p.id, p.payer))?.amount).toBe(p.amount);
}

const property = (cases: fc.Arbitrary<SweepCase>) => fc.asyncProperty(cases, run);

/** An app with every route mounted (membership and clocks too), as a real host has. */
const fullApp = () =>
  createTestApp({
    ledger: new MemoryLedger(),
    clock,
    hostId: 'h-sweep',
    cluster: quietCluster('h-sweep'),
    clocks: testClocks(),
  });

async function answer(app: ReturnType<typeof fullApp>, c: SweepCase) {
  const response = await app.request(c.path, { method: c.method, headers: c.headers, body: c.body });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text };
}

describe('bad-input sweep (in-process)', () => {
  it('POST /payments: every flaw is a 4xx JSON error, every valid body is created', async () => {
    await fc.assert(property(postCases(uniq)), { numRuns: 1500 });
  });

  it('GET /payments/:id: unicode, path tricks and oversized ids', async () => {
    await fc.assert(property(getByIdCases), { numRuns: 800 });
  });

  it('GET /payments: history queries with broken parameters', async () => {
    await fc.assert(property(historyCases), { numRuns: 800 });
  });

  it('other methods, unknown routes, /health and /ready', async () => {
    await fc.assert(property(otherRouteCases), { numRuns: 600 });
  });

  it('everything mixed, with noise headers', async () => {
    await fc.assert(property(sweepCases(uniq)), { numRuns: 1500 });
  });
});

describe('every route × every method × prototype property names (in-process)', () => {
  it('never answers a 5xx, whatever the method, the path parameter or the key', async () => {
    const app = fullApp();
    const routes = app.routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*'));
    expect(routes.length).toBeGreaterThanOrEqual(15);
    await fc.assert(
      fc.asyncProperty(routeMethodCases(routes), async (c) => judge(c, await answer(app, c))),
      { numRuns: 1500 },
    );
  });
});

describe('regressions the sweep found', () => {
  it('GET /dashboard/assets/<prototype property name> is a 404, not a 500 (issue 17 §6)', async () => {
    const app = fullApp();
    for (const name of PROTOTYPE_NAMES) {
      const response = await app.request(`/dashboard/assets/${encodeURIComponent(name)}`, {
        headers: { authorization: '' },
      });
      expect(`${name} ${response.status}`).toBe(`${name} 404`);
    }
  });

  it('OPTIONS /dashboard/etcd-members is a 404, not a 500, with a key or without (issue 17 §6)', async () => {
    const app = fullApp();
    const keyless = await app.request('/dashboard/etcd-members', {
      method: 'OPTIONS',
      headers: { authorization: '' },
    });
    expect(keyless.status).toBe(404);
    const admin = await app.request('/dashboard/etcd-members', { method: 'OPTIONS' });
    expect(admin.status).toBe(404);
  });

  it('refuses a payment id of dots alone, which GET /payments/:id could never reach', async () => {
    const { app, commits } = await seededApp();
    for (const id of ['.', '..', '...']) {
      const body = JSON.stringify({ id, payer: 'a', payee: 'b', amount: 1, currency: 'EUR' });
      const response = await app.request('/payments', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(400);
    }
    expect(commits).toEqual([]);
  });
});
