/**
 * Archival through real host processes (functions/host.ts wiring, issue 14): hosts with
 * ARCHIVE_URL and a 1 s hot window move payments to PostgreSQL; over HTTP, on every host, a retry
 * of an archived payment is 200 replayed with the byte-identical body or 409, never a second 201;
 * reads and history answer the same shape from either tier; /metrics shows the progress; and while
 * PostgreSQL is stopped new payments still commit, an archived read gets 503 archive_unavailable
 * with Retry-After, and archival resumes once it is back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPayment, request } from '../../dev/cluster/http';
import { waitFor } from '../../dev/cluster/managed-process';
import { hotRecordCount, startTestCluster, type TestCluster } from '../support/test-cluster';
import { startTestPostgres, type TestPostgres } from '../support/test-postgres';

let postgres: TestPostgres | undefined;
let cluster: TestCluster | undefined;
let hosts: string[];

beforeAll(async () => {
  postgres = await startTestPostgres();
  const urls = await postgres.database();
  cluster = await startTestCluster({
    hosts: 2,
    hostEnv: { ARCHIVE_URL: urls.host, LEDGER_HOT_WINDOW: '1s', LOG_LEVEL: 'warn' },
  });
  hosts = cluster.fleet.urls();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  await postgres?.stop();
});

const payment = (i: number) => ({
  id: `arch-${randomUUID()}`,
  payer: i % 2 ? 'arch-a' : 'arch-b',
  payee: i % 2 ? 'arch-b' : 'arch-a',
  amount: 100 + i,
  currency: 'EUR',
});

async function hotRecords(): Promise<number> {
  return hotRecordCount(cluster!.client(), cluster!.ledgerRoot);
}

async function archivedTotal(): Promise<number> {
  let total = 0;
  for (const host of hosts) {
    const { text } = await request(`${host}/metrics`);
    total += Number(/^archived_payments_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

describe('archival on real hosts', () => {
  it('archives past the hot window; retries replay byte for byte on every host; reads span both tiers', async () => {
    const sent = Array.from({ length: 12 }, (_, i) => payment(i));
    const created = [];
    for (const [i, p] of sent.entries()) {
      const r = await postPayment(hosts[i % 2]!, p);
      expect(r.status).toBe(201);
      created.push(r);
    }
    await waitFor('archival empties etcd', async () => (await hotRecords()) === 0, 30_000);
    expect(await archivedTotal()).toBeGreaterThanOrEqual(12);

    for (const [i, p] of sent.entries()) {
      for (const host of hosts) {
        const again = await postPayment(host, p);
        expect(again.status).toBe(200);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.text).toBe(created[i]!.text);
        expect((await postPayment(host, { ...p, amount: p.amount + 1 })).status).toBe(409);
        const read = await request(`${host}/payments/${p.id}?payer=${p.payer}`);
        expect(read.status).toBe(200);
        expect(read.body).toEqual(JSON.parse(created[i]!.text));
      }
    }
    // History crosses the boundary: 12 archived, 2 hot, one order, cursor pages of 5.
    const hot = [payment(1), payment(3)];
    for (const p of hot) expect((await postPayment(hosts[0]!, p)).status).toBe(201);
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const query = `account=arch-a&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await request<{ payments: { id: string }[]; nextCursor?: string }>(
        `${hosts[1]}/payments?${query}`,
      );
      expect(r.status).toBe(200);
      ids.push(...r.body.payments.map((p) => p.id));
      cursor = r.body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(ids).toEqual([...sent, ...hot].map((p) => p.id));
  }, 120_000);

  it('with PostgreSQL stopped: new ids commit, an archived read is 503 archive_unavailable; archival resumes', async () => {
    const old = payment(0);
    expect((await postPayment(hosts[0]!, old)).status).toBe(201);
    await waitFor('archived', async () => (await hotRecords()) === 0, 30_000);
    await postgres!.cluster.stop();
    try {
      const fresh = Array.from({ length: 5 }, (_, i) => payment(i));
      for (const p of fresh) expect((await postPayment(hosts[1]!, p)).status).toBe(201);
      const read = await request<{ error: { code: string; retryable: boolean } }>(
        `${hosts[1]}/payments/${old.id}?payer=${old.payer}`,
      );
      expect(read.status).toBe(503);
      expect(read.body.error).toMatchObject({ code: 'archive_unavailable', retryable: true });
      expect(read.headers.get('retry-after')).toBeTruthy();
      await new Promise((r) => setTimeout(r, 2500)); // past the hot window: archival tries and fails
      expect(await hotRecords()).toBe(5);
    } finally {
      await postgres!.cluster.start();
    }
    await waitFor('archival resumes', async () => (await hotRecords()) === 0, 30_000);
    expect((await request(`${hosts[0]}/payments/${old.id}?payer=${old.payer}`)).status).toBe(200);
  }, 120_000);
});
