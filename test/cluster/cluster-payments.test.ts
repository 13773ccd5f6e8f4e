/**
 * The payments API on real processes: three etcd members and three function hosts. Any host
 * answers any request, a payment id is recorded once however the requests are spread, and what
 * one host acknowledged every other host reads at once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPayment, request } from '../../dev/cluster/http';
import { waitFor } from '../../dev/cluster/managed-process';
import { keyLayout, prefixEnd } from '../../ledger/etcd/key-layout';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
let hosts: string[];
beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 3 });
  hosts = cluster.fleet.urls();
});
afterAll(async () => {
  await cluster?.stop();
});

const payment = (overrides: Record<string, unknown> = {}) => ({
  id: `c-${randomUUID()}`,
  payer: 'acct-a',
  payee: 'acct-b',
  amount: 500,
  currency: 'GBP',
  ...overrides,
});

describe('payments across real hosts', () => {
  it('records one payment for many concurrent requests with one id spread over three hosts', async () => {
    const p = payment({ payer: `conc-${randomUUID().slice(0, 8)}` });
    const same = Array.from({ length: 24 }, (_, i) => postPayment(hosts[i % 3]!, p));
    const different = Array.from({ length: 6 }, (_, i) =>
      postPayment(hosts[i % 3]!, { ...p, amount: 501 + i }),
    );
    const responses = await Promise.all([...same, ...different]);
    const sameStatuses = responses.slice(0, 24).map((r) => r.status);
    const differentStatuses = responses.slice(24).map((r) => r.status);
    // The winner may be one of the different-content requests; then every same-content one conflicts.
    const created = responses.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    const winnerIsSame = sameStatuses.includes(201);
    if (winnerIsSame) {
      expect(sameStatuses.filter((s) => s === 200)).toHaveLength(23);
      expect(differentStatuses.every((s) => s === 409)).toBe(true);
      for (const r of responses.slice(0, 24)) expect(r.text).toBe(created[0]!.text);
    } else {
      expect(sameStatuses.every((s) => s === 409)).toBe(true);
    }
    // The ledger holds exactly one record for the id, and one index entry per side.
    const keys = keyLayout();
    const etcd = cluster.client();
    expect(await etcd.getAll().prefix(keys.paymentsWithId(p.id)).count()).toBe(1);
    const payerEntries = await etcd.kv.range({
      key: Buffer.from(keys.accountPrefix(p.payer)),
      range_end: prefixEnd(keys.accountPrefix(p.payer)),
      count_only: true,
    });
    expect(Number(payerEntries.count)).toBe(1);
  });

  it('makes a payment acknowledged by one host readable at once from the others', async () => {
    for (let i = 0; i < 12; i++) {
      const p = payment();
      const created = await postPayment(hosts[i % 3]!, p);
      expect(created.status).toBe(201);
      const reads = await Promise.all([1, 2].map((k) => request(`${hosts[(i + k) % 3]}/payments/${p.id}`)));
      for (const read of reads) {
        expect(read.status).toBe(200);
        expect(read.text).toBe(created.text);
      }
    }
  });

  it('keeps one id under two payers apart on every host: replay and conflict per payer, ambiguous read without one', async () => {
    const id = `tenant-${randomUUID()}`;
    const [a, b] = [`ta-${randomUUID().slice(0, 8)}`, `tb-${randomUUID().slice(0, 8)}`];
    const payee = `shop-${randomUUID().slice(0, 8)}`;
    const first = await postPayment(hosts[0]!, payment({ id, payer: a, payee }));
    // Tenant b picks the same id for a payment of its own, on another host: a new payment, not a 409.
    const other = await postPayment(hosts[1]!, payment({ id, payer: b, payee, amount: 7 }));
    expect([first.status, other.status]).toEqual([201, 201]);
    const replay = await postPayment(hosts[2]!, payment({ id, payer: a, payee }));
    expect(replay.status).toBe(200);
    expect(replay.text).toBe(first.text);
    const conflict = await postPayment(hosts[2]!, payment({ id, payer: b, payee, amount: 8 }));
    expect((conflict.body as { error: { code: string } }).error.code).toBe('idempotency_conflict');
    for (const host of hosts) {
      expect((await request(`${host}/payments/${id}?payer=${a}`)).text).toBe(first.text);
      expect((await request(`${host}/payments/${id}?payer=${b}`)).text).toBe(other.text);
      const ambiguous = await request<{ error: { code: string; details: { message: string }[] } }>(
        `${host}/payments/${id}`,
      );
      expect(ambiguous.status).toBe(409);
      expect(ambiguous.body.error.code).toBe('ambiguous_payment_id');
      expect(ambiguous.body.error.details.map((d) => d.message)).toEqual([a, b]);
      const history = await request<{ payments: { payer: string }[] }>(`${host}/payments?account=${payee}`);
      expect(history.body.payments.map((p) => p.payer)).toEqual([a, b]);
    }
  });

  it('serves the same history, in commit order, from every host', async () => {
    const account = `hist-${randomUUID().slice(0, 8)}`;
    const sequences: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await postPayment(hosts[i % 3]!, payment(i % 2 ? { payer: account } : { payee: account }));
      sequences.push((r.body as { sequence: number }).sequence);
    }
    const histories = await Promise.all(
      hosts.map((h) => request(`${h}/payments?account=${account}&limit=4`)),
    );
    for (const h of histories) expect(h.text).toBe(histories[0]!.text);
    const first = histories[0]!.body as { payments: { sequence: number }[]; nextCursor: string };
    const rest = await request<{ payments: { sequence: number }[]; nextCursor: null }>(
      `${hosts[2]}/payments?account=${account}&limit=4&cursor=${first.nextCursor}`,
    );
    expect([...first.payments, ...rest.body.payments].map((p) => p.sequence)).toEqual(sequences);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('shows every live host with its clock offset in /cluster, from any host', async () => {
    type ClusterBody = {
      hosts: { id: string; alive: boolean; clockOffsetMs: number | null; clockSynced: boolean | null }[];
      leader: { id: string } | null;
    };
    for (const h of hosts) {
      // Offsets are read live from each host's /time; on a busy machine one read may time out.
      let body: ClusterBody | undefined;
      await waitFor(`${h} /cluster with every offset`, async () => {
        const response = await request<ClusterBody>(`${h}/cluster`);
        body = response.body;
        return response.status === 200 && body.hosts.filter((x) => x.alive && x.clockSynced).length === 3;
      });
      const alive = body!.hosts.filter((x) => x.alive);
      expect(alive.map((x) => x.id).sort()).toEqual(['h1', 'h2', 'h3']);
      // Same machine, synchronized: offsets are small, but they are measured, not assumed.
      for (const x of alive) expect(Math.abs(x.clockOffsetMs!)).toBeLessThan(100);
      expect(body!.leader?.id).toMatch(/^h[123]$/);
    }
  });

  it('reports every host ready', async () => {
    for (const h of hosts) expect((await request(`${h}/ready`)).status).toBe(200);
  });
});
