/**
 * One tenant cannot lock every other tenant out of a host (issue 17 §1), on a real host process
 * with its default bounds (128 requests in progress, half of them per key, a 10 s body deadline).
 *
 * Tenant A opens 128 connections to the host; each sends its headers and the first byte of a
 * body, then one more byte every 2 s. Before the fix they held all 128 slots for Node's 300 s
 * request timeout, and tenant B's payments on that host got 503 `overloaded` meanwhile. Now A
 * holds at most its share, B's payments succeed, and A's slow requests end with 408 (retryable)
 * at the body deadline. Bounded: 128 sockets, 30 s.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPayment } from '../../dev/cluster/http';
import { waitFor } from '../../dev/cluster/managed-process';
import { issueApiKey } from '../../functions/auth/issue-api-key';
import { keyLayout } from '../../ledger/etcd/key-layout';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const SLOW = 128;
let cluster: TestCluster;
let host: string;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  cluster = await startTestCluster({ hosts: 1, hostEnv: { LOG_LEVEL: 'warn' } });
  host = cluster.fleet.urls()[0]!;
  const now = new Date().toISOString();
  keyA = (await issueApiKey(cluster.apiKeys, { accounts: ['tenant-a'], label: 'A' }, now)).key;
  keyB = (await issueApiKey(cluster.apiKeys, { accounts: ['tenant-b'], label: 'B' }, now)).key;
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

interface SlowRequest {
  socket: Socket;
  /** The status line's code once an answer arrived, and the answer's text. */
  answer: { status: number; text: string } | undefined;
}

/** POST /payments as tenant A whose body arrives one byte every 2 s. */
function slowPayment(n: number): SlowRequest {
  const { hostname, port } = new URL(host);
  const body = JSON.stringify({
    id: `slow-${n}`,
    payer: 'tenant-a',
    payee: 'shop',
    amount: 1,
    currency: 'EUR',
  });
  const slow: SlowRequest = { socket: connect(Number(port), hostname), answer: undefined };
  let received = '';
  slow.socket.on('data', (d) => {
    received += d.toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
    slow.answer = { status, text: received };
  });
  slow.socket.on('error', () => undefined);
  slow.socket.write(
    `POST /payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${keyA}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body[0]}`,
  );
  let sent = 1;
  const drip = setInterval(() => {
    if (sent >= body.length - 1 || slow.socket.destroyed) return clearInterval(drip);
    slow.socket.write(body[sent++]!);
  }, 2000);
  slow.socket.on('close', () => clearInterval(drip));
  return slow;
}

async function inProgress(): Promise<number> {
  const response = await fetch(`${host}/metrics`, {
    headers: { authorization: `Bearer ${cluster.adminKey}` },
    signal: AbortSignal.timeout(5000),
  });
  const line = (await response.text()).split('\n').find((l) => l.startsWith('http_requests_in_progress '));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('one tenant cannot lock another out of a host', () => {
  it("128 slow connections from one key: another key's payments on the same host still succeed", async () => {
    const slow = Array.from({ length: SLOW }, (_, n) => slowPayment(n));
    try {
      // Every slow request has reached the host: it holds them, or has already refused them.
      await waitFor(
        'the slow requests to reach the host',
        async () => (await inProgress()) + slow.filter((s) => s.answer).length >= SLOW,
        15_000,
      );
      const started = performance.now();
      const statuses = [];
      for (let i = 0; i < 10; i++) {
        const response = await postPayment(
          host,
          { id: `b-${i}`, payer: 'tenant-b', payee: 'shop', amount: 1, currency: 'EUR' },
          { authorization: `Bearer ${keyB}` },
        );
        statuses.push(response.status);
      }
      expect(statuses).toEqual(Array(10).fill(201));
      // Well before the body deadline: B never waited for A's requests to end.
      expect(performance.now() - started).toBeLessThan(8000);

      // A's requests: its share was held until the 10 s body deadline (408, retryable), the rest
      // refused at once (503 overloaded). None was still open after the deadline.
      await waitFor(
        'every slow request answered',
        async () => slow.every((s) => s.answer !== undefined),
        20_000,
      );
      const byStatus = new Map<number, number>();
      for (const s of slow) byStatus.set(s.answer!.status, (byStatus.get(s.answer!.status) ?? 0) + 1);
      expect(Object.fromEntries(byStatus)).toEqual({ 408: SLOW / 2, 503: SLOW / 2 });
      const timedOut = slow.find((s) => s.answer!.status === 408)!.answer!.text;
      expect(timedOut).toMatch(/"code":"request_timeout"/);
      expect(timedOut).toMatch(/\r\nretry-after: 1\r\n/i);
    } finally {
      for (const s of slow) s.socket.destroy();
    }
    // The host is whole again: B pays, and nothing of A's slow payments reached the ledger.
    expect((await fetch(`${host}/ready`)).status).toBe(200);
    const last = await postPayment(
      host,
      { id: 'b-after', payer: 'tenant-b', payee: 'shop', amount: 1, currency: 'EUR' },
      { authorization: `Bearer ${keyB}` },
    );
    expect(last.status).toBe(201);
    const etcd = cluster.client();
    const stored = await Promise.all(
      slow.map((_, n) =>
        etcd
          .getAll()
          .prefix(keyLayout().paymentsWithId(`slow-${n}`))
          .count(),
      ),
    );
    expect(stored.filter((c) => c > 0)).toEqual([]);
  }, 60_000);
});
