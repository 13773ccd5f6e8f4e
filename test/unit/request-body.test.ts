/**
 * The request body as a real Node host reads it (functions/middleware/request-body.ts reads the
 * IncomingMessage, not the Web Request): the app served by @hono/node-server on a loopback port,
 * over a MemoryLedger. Checks the limit with and without a content length, a byte order mark,
 * and that a client hanging up mid-body leaves the host serving.
 */
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp } from '../support/test-app';

let server: ServerType;
let base: string;
let adminKey: string;
const ledger = new MemoryLedger();

beforeAll(async () => {
  const app = createTestApp({ ledger, clock: systemClock, hostId: 'h-body', maxBodyBytes: 4096 });
  adminKey = app.adminKey;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const payment = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, payer: 'alice', payee: 'bob', amount: 5, currency: 'EUR', ...extra });
const post = (body: string | ReadableStream, headers: Record<string, string> = {}) =>
  fetch(`${base}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, ...headers },
    body,
    duplex: 'half',
  } as RequestInit);

describe('request body on a Node host', () => {
  it('commits a payment read from the socket, and strips a byte order mark', async () => {
    expect((await post(payment('body-1'))).status).toBe(201);
    expect((await post(`\uFEFF${payment('body-2')}`)).status).toBe(201);
    expect(await ledger.get('body-2', 'alice')).toMatchObject({ id: 'body-2', amount: 5 });
  });

  it('answers 413 over the limit, with a content length and chunked, and records nothing', async () => {
    const big = payment('body-big', { description: 'x'.repeat(5000) });
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++)
          controller.enqueue(new TextEncoder().encode(big.slice(i * 1100, (i + 1) * 1100)));
        controller.close();
      },
    });
    expect((await post(stream)).status).toBe(413);
    expect(await ledger.get('body-big', 'alice')).toBeUndefined();
  });

  it('keeps serving after a client hangs up in the middle of a body', async () => {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /payments HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"id":"body-cut"',
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    expect((await post(payment('body-3'))).status).toBe(201);
    expect(await ledger.get('body-cut', 'alice')).toBeUndefined();
  });
});
