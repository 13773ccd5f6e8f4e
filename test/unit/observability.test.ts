/**
 * Logs, request ids and metrics, in-process over the in-memory ledger: what an operator greps
 * for and what Prometheus scrapes.
 */
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import type { ClusterView } from '../../coordination/cluster/cluster-view';
import { readHostConfig } from '../../functions/config';
import { createLogger } from '../../functions/observability/logger';
import { createMetrics, type Metrics, watchClusterView } from '../../functions/observability/metrics';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

let lines: Record<string, unknown>[];
let raw: string[];
let metrics: Metrics;
let app: ReturnType<typeof createTestApp>;

beforeEach(() => {
  lines = [];
  raw = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  metrics = createMetrics();
  const logger = createLogger({ level: 'info', base: { host: 'h-test' }, destination });
  app = createTestApp({ ledger: new MemoryLedger(), clock: systemClock, hostId: 'h-test', logger, metrics });
});

const pay = (id: string, headers: Record<string, string> = {}) =>
  app.request('/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ id, payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' }),
  });

describe('request ids', () => {
  it('returns the client X-Request-Id and logs it on every line of that request', async () => {
    const response = await pay('p-log-1', { 'x-request-id': 'req-abc-123' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('req-abc-123');
    const mine = lines.filter((l) => l.reqId === 'req-abc-123');
    expect(mine.length).toBeGreaterThanOrEqual(2); // the payment line and the access line
    expect(mine.every((l) => l.paymentId === 'p-log-1' && l.host === 'h-test')).toBe(true);
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['payment', 'request']));
    expect(mine.find((l) => l.msg === 'payment')).toMatchObject({
      outcome: 'committed',
      level: 'info',
      payer: 'alice',
    });
    // JSON.parse keeps the last of duplicate keys; log shippers may not, so each key appears once.
    for (const line of raw.filter((l) => l.includes('req-abc-123')))
      expect(line.split('"paymentId"')).toHaveLength(2);
  });

  it('generates a request id when none (or an unsafe one) is given', async () => {
    const plain = await app.request('/payments?account=alice');
    const generated = plain.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await app.request('/health', { headers: { 'x-request-id': 'bad id\twith "quotes"' } });
    expect(unsafe.headers.get('x-request-id')).not.toContain('bad');
    expect(lines.some((l) => l.reqId === generated && l.msg === 'request' && l.status === 200)).toBe(true);
  });

  it('logs polled operator routes at debug only, so the info log is about payments', async () => {
    await app.request('/metrics');
    await app.request('/health');
    await app.request('/cluster'); // polled by the dashboard even where it is not deployed (404)
    await pay('p-log-quiet');
    expect(lines.filter((l) => l.msg === 'request').map((l) => l.route)).toEqual(['/payments']);
  });

  it('keeps the request id on error answers and tags lookups with the payment id', async () => {
    const response = await app.request('/payments/nope-1', { headers: { 'x-request-id': 'req-404' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('req-404');
    expect(lines.find((l) => l.reqId === 'req-404')).toMatchObject({ paymentId: 'nope-1', status: 404 });
  });
});

describe('LOG_LEVEL', () => {
  it('sets the level, defaults to info, and rejects unknown levels at start-up', () => {
    expect(readHostConfig({}).logLevel).toBe('info');
    expect(readHostConfig({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => readHostConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});

describe('GET /metrics', () => {
  it('counts requests by route pattern and status, with latency histograms', async () => {
    await pay('p-m-1');
    await pay('p-m-1');
    await app.request('/payments/p-m-1');
    await app.request('/payments/missing');
    await app.request('/no/such/path');
    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('http_requests_total{method="POST",route="/payments",status="201"}')).toBe(1);
    expect(value('http_requests_total{method="POST",route="/payments",status="200"}')).toBe(1);
    expect(value('http_requests_total{method="GET",route="/payments/:id",status="200"}')).toBe(1);
    expect(value('http_requests_total{method="GET",route="/payments/:id",status="404"}')).toBe(1);
    expect(value('http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(value('http_request_duration_seconds_count{method="POST",route="/payments",status="201"}')).toBe(
      1,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/payments"/,
    );
    expect(value('inflight_commits')).toBe(0);
    for (const name of [
      'commit_batch_size',
      'etcd_call_seconds',
      'inflight_commits',
      'shed_requests_total',
      'is_leader',
      'clock_offset_ms',
      'clock_error_bound_ms',
      'live_hosts',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('follows a ClusterView for is_leader and live_hosts', async () => {
    const listeners: (() => void)[] = [];
    let leading = false;
    let live = 2;
    const view: ClusterView = {
      selfId: 'h-test',
      liveHosts: () => Array.from({ length: live }, (_, i) => ({ id: `h${i}`, url: '', since: '' })),
      leader: () => undefined,
      isLeader: () => leading,
      onChange: (l) => {
        listeners.push(l);
        return () => undefined;
      },
    };
    watchClusterView(metrics, view);
    expect((await metrics.isLeader.get()).values[0]?.value).toBe(0);
    leading = true;
    live = 3;
    for (const l of listeners) l();
    const text = await (await app.request('/metrics')).text();
    expect(text).toMatch(/^is_leader 1$/m);
    expect(text).toMatch(/^live_hosts 3$/m);
  });
});
