/**
 * Overload, on real processes: a host past its bounds answers at once with 503 `overloaded` and
 * Retry-After instead of queueing, changes nothing in the ledger for what it sheds, keeps every
 * payment it acknowledged, holds its memory, and takes payments again right after.
 *
 * Two hosts with small bounds (environment): h1 allows 4 requests in progress
 * (functions/middleware/requests-in-progress.ts); h2 allows 2 payments queued for etcd behind one
 * transaction of at most 2 (ledger/etcd/commit-batcher.ts). On h1 the overload is made exact: four
 * POSTs whose bodies are held back occupy every slot, so every request of the burst sent
 * meanwhile must be refused, and since the held requests cannot finish, an answer can only be an
 * immediate refusal. On h2 it is a burst of concurrent payments, far more than 4 can be
 * committing at once. Every burst is bounded in count (120) and time (10 s per request).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRss } from '../../dev/bench/process-rss';
import { waitFor } from '../../dev/cluster/managed-process';
import { keyLayout } from '../../ledger/etcd/key-layout';
import { authHeaders } from '../../loadtest/api-key';
import { paymentBody } from '../../loadtest/scenarios';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const BURST = 120;
const HELD = 4;
let cluster: TestCluster;
let headers: Record<string, string>;
let h1: string;
let h2: string;
const run = `ovt${Date.now().toString(36)}`;
let paymentNumber = 0;

beforeAll(async () => {
  cluster = await startTestCluster({
    hosts: 2,
    hostEnv: { LOG_LEVEL: 'warn' },
    hostEnvFor: (i): Record<string, string> =>
      i === 0
        ? // One key (the admin's) fills every slot here: its share is the whole bound.
          { HOST_MAX_REQUESTS_IN_PROGRESS: String(HELD), HOST_MAX_REQUESTS_PER_KEY: String(HELD) }
        : // Only the commit queue sheds here: the one key may use every slot (no per-key share).
          {
            COMMIT_MAX_QUEUED: '2',
            COMMIT_MAX_IN_FLIGHT: '1',
            COMMIT_BATCH_MAX: '2',
            HOST_MAX_REQUESTS_PER_KEY: '128',
          },
  });
  headers = authHeaders(cluster.adminKey);
  [h1, h2] = cluster.fleet.urls() as [string, string];
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

interface Answer {
  id: string;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  ms: number;
}

function newPayment(): { id: string; body: string } {
  const n = paymentNumber++;
  const id = `${run}-${n}`;
  return { id, body: paymentBody(id, n, 50) };
}

async function post(url: string, payment = newPayment()): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${url}/payments`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: payment.body,
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return {
    id: payment.id,
    status: response.status,
    code: body?.error?.code,
    retryAfter: response.headers.get('retry-after'),
    ms: performance.now() - started,
  };
}

/** BURST concurrent new payments to `url`. */
const burst = (url: string) => Promise.all(Array.from({ length: BURST }, () => post(url)));

/** A POST whose headers and first bytes are sent and whose body is finished only on release(). */
function heldPayment(url: string): { id: string; release: () => Promise<number> } {
  const { id, body } = newPayment();
  const req = httpRequest(`${url}/payments`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  status.catch(() => undefined);
  req.write(body.slice(0, 10));
  return {
    id,
    release: () => {
      req.end(body.slice(10));
      return status;
    },
  };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers, signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** How many of `ids` have a payment record in the ledger. */
async function inLedger(ids: string[]): Promise<number> {
  const etcd = cluster.client();
  const keys = keyLayout();
  const counts = await Promise.all(ids.map((id) => etcd.getAll().prefix(keys.paymentsWithId(id)).count()));
  return counts.filter((c) => c > 0).length;
}

function expectOnlyCreatedOrShed(answers: Answer[]): { created: Answer[]; shed: Answer[] } {
  const created = answers.filter((a) => a.status === 201);
  const shed = answers.filter((a) => a.status === 503);
  // Nothing else: no timeouts (fetch would have thrown), no deadline 503s, no 500s.
  expect(created.length + shed.length).toBe(answers.length);
  for (const a of shed) {
    expect(a.code).toBe('overloaded');
    expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
  }
  return { created, shed };
}

describe('overload', () => {
  it('sheds at once past the requests-in-progress bound, keeps what it took, then recovers', async () => {
    const host = cluster.fleet.host('h1');
    const rss = sampleRss({ h1: () => host.process.pid });
    const idleRss = rss.max().h1!;
    const held = Array.from({ length: HELD }, () => heldPayment(h1));
    await waitFor(
      'h1 holding 4 requests',
      async () => (await metric(h1, 'http_requests_in_progress')) === HELD,
      10_000,
    );

    const answers = await burst(h1);
    // The held requests are still in progress: every answer was a refusal, given without waiting.
    const { created, shed } = expectOnlyCreatedOrShed(answers);
    expect(created).toHaveLength(0);
    expect(shed).toHaveLength(BURST);
    expect(Math.max(...shed.map((a) => a.ms))).toBeLessThan(5000);
    expect(await metric(h1, 'shed_requests_total{reason="requests_in_progress"}')).toBe(BURST);

    const heldStatuses = await Promise.all(held.map((h) => h.release()));
    expect(heldStatuses).toEqual(Array(HELD).fill(201));
    expect(await inLedger(held.map((h) => h.id))).toBe(HELD);
    expect(await inLedger(shed.map((a) => a.id))).toBe(0);

    // Memory: 120 refused requests cost the host next to nothing (generous: GC runs when it likes).
    const peak = rss.max().h1!;
    rss.stop();
    expect(peak - idleRss).toBeLessThan(100 * 2 ** 20);

    // Recovered: slots are free again, a new payment commits at once.
    expect(await metric(h1, 'http_requests_in_progress')).toBe(0);
    expect((await post(h1)).status).toBe(201);
  });

  it('sheds past the commit queue bound, commits every acknowledged payment exactly once, then recovers', async () => {
    const host = cluster.fleet.host('h2');
    const rss = sampleRss({ h2: () => host.process.pid });
    const idleRss = rss.max().h2!;
    const answers = await burst(h2);
    const { created, shed } = expectOnlyCreatedOrShed(answers);
    // At most 2 committing and 2 queued at a time: 120 at once cannot all get in.
    expect(shed.length).toBeGreaterThan(0);
    expect(created.length).toBeGreaterThan(0);
    expect(Math.max(...shed.map((a) => a.ms))).toBeLessThan(5000);
    expect(await metric(h2, 'shed_requests_total{reason="commit_queue_full"}')).toBe(shed.length);

    expect(await inLedger(created.map((a) => a.id))).toBe(created.length);
    expect(await inLedger(shed.map((a) => a.id))).toBe(0);
    const peak = rss.max().h2!;
    rss.stop();
    expect(peak - idleRss).toBeLessThan(100 * 2 ** 20);

    // A shed payment retried with the same id after the burst commits once.
    const retried = shed[0]!;
    const again = await post(h2, {
      id: retried.id,
      body: paymentBody(retried.id, Number(retried.id.split('-').pop()), 50),
    });
    expect(again.status).toBe(201);
    expect(await inLedger([retried.id])).toBe(1);
  });
});
