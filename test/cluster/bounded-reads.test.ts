/**
 * Reads that one tenant cannot break for another (issue 17 §2, §4), on a real etcd member: a
 * stored payment is capped in bytes, history is read in chunks bounded by bytes (never over gRPC's
 * 4 MiB receive limit) with pages cut by bytes, and a history scan past its deadline stops
 * issuing etcd calls.
 */
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import type { PaymentIntent } from '../../ledger/payment';
import { createTestApp } from '../support/test-app';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({ members: 1 });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

/** The attack payment: 50 metadata values of 195 U+0001, 6 bytes each once JSON-encoded (about 59 KB stored). */
const attackMetadata = () =>
  Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, '\u0001'.repeat(195)]));

const attackPayment = (payee: string, payer = `p-${randomUUID().slice(0, 8)}`): PaymentIntent => ({
  id: `big-${randomUUID()}`,
  payer,
  payee,
  amount: 1,
  currency: 'EUR',
  metadata: attackMetadata(),
});

/** Commits straight through the etcd transaction, as a host before the size cap would have stored them. */
async function seedLegacy(ledger: EtcdLedger, payments: PaymentIntent[]) {
  for (let i = 0; i < payments.length; i += 10) {
    const results = await ledger.commitMany(
      payments.slice(i, i + 10).map((intent) => ({
        intent,
        context: { host: 'h-old', committedAt: new Date().toISOString() },
        nonce: randomUUID(),
      })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
  }
}

const appOver = (ledger: EtcdLedger) => createTestApp({ ledger, clock: systemClock, hostId: 'h1' });

describe('one payer cannot break another account’s history (issue 17 §2)', () => {
  it('refuses the 59 KB payment (50 metadata values of \\u0001) with 400 invalid_request naming the size cap', async () => {
    const ledger = new EtcdLedger({
      client: cluster.client(),
      root: `/test/${randomUUID()}`,
      batching: false,
    });
    const app = appOver(ledger);
    const response = await app.request('/payments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(attackPayment('sink')),
    });
    const body = (await response.json()) as {
      error: { code: string; message: string; details?: { message: string }[] };
    };
    expect(response.status, JSON.stringify(body).slice(0, 200)).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/over the cap of 16384 bytes \(MAX_PAYMENT_BYTES\)/);
    expect(body.error.details?.[0]?.message).toMatch(/over the cap of 16384 bytes/);
  });

  it('sink: 80 maximal payments to one payee still leave GET /payments?account=sink served, page by page', async () => {
    const ledger = new EtcdLedger({
      client: cluster.client(),
      root: `/test/${randomUUID()}`,
      batching: false,
    });
    await seedLegacy(
      ledger,
      Array.from({ length: 80 }, () => attackPayment('sink')),
    );
    const app = appOver(ledger);
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const response = await app.request(`/payments?account=sink${query}`);
      const text = await response.text();
      expect(response.status, text.slice(0, 300)).toBe(200);
      const page = JSON.parse(text) as { payments: { id: string }[]; nextCursor: string | null };
      for (const p of page.payments) seen.add(p.id);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    expect(seen.size).toBe(80);
  }, 60_000);
});

describe('one id used by many payers of large payments (issue 17 §2)', () => {
  it('80 payers of 59 KB payments under one id still leave GET /payments/:id answered (409 listing them), not 503', async () => {
    const ledger = new EtcdLedger({
      client: cluster.client(),
      root: `/test/${randomUUID()}`,
      batching: false,
    });
    const id = `crowded-${randomUUID()}`;
    await seedLegacy(
      ledger,
      Array.from({ length: 80 }, () => ({ ...attackPayment('shop'), id })),
    );
    const response = await appOver(ledger).request(`/payments/${id}`);
    const body = (await response.json()) as { error: { code: string; details?: unknown[] } };
    expect(response.status, JSON.stringify(body).slice(0, 300)).toBe(409);
    expect(body.error.code).toBe('ambiguous_payment_id');
    expect(body.error.details).toHaveLength(80);
  }, 60_000);
});

describe('memory under concurrent full pages (issue 17 §2)', () => {
  it('60 concurrent limit=1000 pages of 16 KB payments stay within a bounded heap', async () => {
    // Deadlines long enough for 60 concurrent pages on a shared 2-core machine: this measures memory, not latency.
    const ledger = new EtcdLedger({
      client: cluster.client({ callDeadlineMs: 10_000 }),
      root: `/test/${randomUUID()}`,
      batching: false,
      operationDeadlineMs: 30_000,
    });
    // Payments just under the 16 KiB cap: 40 metadata values of 380 ASCII characters.
    const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(380)]));
    await seedLegacy(
      ledger,
      Array.from({ length: 240 }, () => ({ ...attackPayment('wide'), metadata })),
    );
    const app = appOver(ledger);
    globalThis.gc?.();
    const usage = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = usage();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, usage());
    }, 5);
    const responses = await Promise.all(
      Array.from({ length: 60 }, () =>
        Promise.resolve(app.request('/payments?account=wide&limit=1000')).then(async (r) => {
          peak = Math.max(peak, usage());
          const buffer = await r.arrayBuffer();
          if (r.status !== 200)
            console.log(`status ${r.status}: ${Buffer.from(buffer).toString().slice(0, 200)}`);
          return { status: r.status, bytes: buffer.byteLength };
        }),
      ),
    );
    clearInterval(sampler);
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    const pageBytes = Math.max(0, ...responses.filter((r) => r.status === 200).map((r) => r.bytes));
    console.log(
      `60 concurrent limit=1000 pages: heap+buffers ${mib(before)} MiB before, peak ${mib(peak)} MiB (+${mib(peak - before)} MiB); one page ${mib(pageBytes)} MiB; statuses ${responses.filter((r) => r.status === 200).length} of 60 were 200`,
    );
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    // Each page is cut at HISTORY_PAGE_BYTES (1 MiB), whatever its limit, so memory per request is bounded.
    expect(Math.max(...responses.map((r) => r.bytes))).toBeLessThanOrEqual(2 ** 20 + 16 * 1024);
    // Generous: 60 pages of at most 1 MiB each, with their decoded copies, stay well under 400 MiB.
    expect(peak - before).toBeLessThan(400 * 2 ** 20);
  }, 60_000);
});

describe('reads stop at their deadline (issue 17 §4)', () => {
  it('a history scan that hits its deadline issues no etcd call afterwards', async () => {
    const root = `/test/${randomUUID()}`;
    const seeder = new EtcdLedger({ client: cluster.client(), root, batching: false });
    const account = `acct-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 60; i++)
      await seeder.commit(
        { id: `d-${i}`, payer: account, payee: 'shop-1', amount: 1, currency: 'EUR' },
        { host: 'h1', committedAt: new Date().toISOString() },
      );
    // Every etcd call through this client is counted and takes 100 ms more.
    const real = cluster.client();
    let calls = 0;
    const slow =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
        return call(...args);
      };
    const kv = {
      range: slow(real.kv.range.bind(real.kv)),
      txn: slow(real.kv.txn.bind(real.kv)),
    };
    const client = { kv, close: () => {} } as unknown as Etcd3;
    const ledger = new EtcdLedger({
      client,
      root,
      batching: false,
      operationDeadlineMs: 300,
      readsPerTxn: 2,
    });
    await expect(ledger.history({ account, limit: 60 })).rejects.toMatchObject({ code: 'unavailable' });
    const atDeadline = calls;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls - atDeadline, `etcd calls issued after the deadline (${atDeadline} before it)`).toBe(0);
  }, 30_000);
});
