/**
 * Losing the etcd quorum: with two of three members down, a host answers 503 with Retry-After
 * within a bounded time (never a hang), reports itself not ready, and recovers fully once the
 * members are back, with nothing acknowledged lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPayment, request } from '../../dev/cluster/http';
import { waitFor } from '../../dev/cluster/managed-process';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
let host: string;
beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 1, hostEnv: { REQUEST_DEADLINE_MS: '4000' } });
  host = cluster.fleet.urls()[0]!;
});
afterAll(async () => {
  await cluster?.stop();
});

const payment = () => ({
  id: `q-${randomUUID()}`,
  payer: 'q-payer',
  payee: 'q-payee',
  amount: 7,
  currency: 'JPY',
});

describe('quorum loss', () => {
  it('answers 503 in bounded time without quorum, then recovers with nothing lost', async () => {
    const before = payment();
    const acked = await postPayment(host, before);
    expect(acked.status).toBe(201);

    const [, n2, n3] = cluster.etcd.members;
    await n2!.process.kill();
    await n3!.process.kill();

    const pending = payment();
    const started = performance.now();
    const refused = await postPayment(host, pending);
    const elapsedMs = performance.now() - started;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((refused.body as { error: { code: string } }).error.code).toBe('unavailable');
    expect(elapsedMs).toBeLessThan(4000 + 1500);

    const readStarted = performance.now();
    expect((await request(`${host}/payments/${before.id}`)).status).toBe(503);
    expect(performance.now() - readStarted).toBeLessThan(4000 + 1500);
    expect((await request(`${host}/ready`)).status).toBe(503);
    expect((await request(`${host}/health`)).status).toBe(200);

    await cluster.etcd.restartMember(n2!.name);
    await cluster.etcd.restartMember(n3!.name);
    await waitFor('host ready again', async () => (await request(`${host}/ready`)).status === 200, 30_000);

    // The refused payment's outcome was unknown; retrying it with the same id is safe either way.
    const retried = await postPayment(host, pending);
    expect([200, 201]).toContain(retried.status);
    const read = await request(`${host}/payments/${before.id}`);
    expect(read.status).toBe(200);
    expect(read.text).toBe(acked.text);
  });
});
