/**
 * Node's deadlines for a request to arrive, as the host sets them (functions/server-timeouts.ts,
 * issue 17 §7): slow headers were held for Node's 60 s default (and the whole request for 300 s).
 * A real server on a loopback port, with the deadlines shortened so the test runs in a second.
 */

import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { readHostConfig } from '../../functions/config';
import { answerMalformedRequest } from '../../functions/http-errors';
import { DEFAULT_BODY_TIMEOUT_MS } from '../../functions/middleware/request-body';
import { serverTimeouts } from '../../functions/server-timeouts';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

const HEADERS_TIMEOUT_MS = 400;
const CHECK_MS = 100;
let server: ServerType;
let port: number;

beforeAll(async () => {
  const app = createTestApp({ ledger: new MemoryLedger(), clock: systemClock, hostId: 'h-slow' });
  await new Promise<void>((resolve) => {
    server = serve(
      {
        fetch: app.fetch,
        port: 0,
        hostname: '127.0.0.1',
        serverOptions: serverTimeouts({
          headersTimeoutMs: HEADERS_TIMEOUT_MS,
          bodyTimeoutMs: 400,
          checkingIntervalMs: CHECK_MS,
        }),
      },
      () => resolve(),
    );
  });
  server.on('clientError', answerMalformedRequest);
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  (server as import('node:http').Server).closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Writes `text` on a fresh connection and collects what comes back until the server closes it. */
function exchange(text: string): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - started }));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

describe('slow headers (issue 17 §7)', () => {
  it('slow headers: a request line and one header, then silence, are answered 408 request_timeout and the connection closed within the headers timeout', async () => {
    const { answer, closedAfterMs } = await exchange('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    expect(body.error).toMatchObject({ code: 'request_timeout', retryable: true });
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 10);
    // Node checks every CHECK_MS; generous slack for a loaded machine, far below Node's 60 s default.
    expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + CHECK_MS + 2000);
  });

  it('a request whose headers arrive at once is served as before', async () => {
    const { answer } = await exchange('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('hosts give headers 10 s by default, and the whole request headers + body deadline, checked every second', () => {
    const config = readHostConfig({});
    expect(config.headersTimeoutMs).toBe(10_000);
    expect(
      serverTimeouts({ headersTimeoutMs: config.headersTimeoutMs, bodyTimeoutMs: config.bodyTimeoutMs }),
    ).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 10_000 + DEFAULT_BODY_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    });
  });
});
