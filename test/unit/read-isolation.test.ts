/**
 * Reads that leak or hide nothing across tenants (issue 17 §3, §7 first bullet), in-process: a
 * lookup by id finds the caller's own payment however many payers used the id before, and a 503
 * carries a stable message, never etcd's, gRPC's or PostgreSQL's own text (that goes to the log).
 */
import type { Etcd3 } from 'etcd3';
import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { EtcdApiKeyStore } from '../../functions/auth/etcd-api-key-store';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { PgArchive } from '../../ledger/archive/pg-archive';
import { cancellableCall, type EtcdCallOptions } from '../../ledger/etcd/bounded-etcd-call';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, testKey } from '../support/test-app';

const post = (app: ReturnType<typeof createTestApp>, key: string, body: object) =>
  app.request('/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });

describe('the lookup by id filters before it caps (issue 17 §3)', () => {
  it('a key covering 100 accounts that used an id first cannot hide another tenant’s payment with it (404)', async () => {
    const squatterAccounts = Array.from({ length: 100 }, (_, i) => `squat-${i}`);
    const squatter = testKey({ accounts: squatterAccounts });
    const victim = testKey({ accounts: ['victim'] });
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      apiKeys: new MemoryApiKeyStore([squatter.record, victim.record]),
    });
    for (const payer of squatterAccounts) {
      const response = await post(app, squatter.key, {
        id: 'order-1',
        payer,
        payee: 'shop',
        amount: 1,
        currency: 'EUR',
      });
      expect(response.status).toBe(201);
    }
    const mine = await post(app, victim.key, {
      id: 'order-1',
      payer: 'victim',
      payee: 'shop',
      amount: 5,
      currency: 'EUR',
    });
    expect(mine.status).toBe(201);
    const found = await app.request('/payments/order-1', {
      headers: { authorization: `Bearer ${victim.key}` },
    });
    expect(found.status, await found.clone().text()).toBe(200);
    expect(await found.json()).toMatchObject({ id: 'order-1', payer: 'victim', amount: 5 });
  });

  it('finds the caller’s payment as payee too, past 100 other payers of the id', async () => {
    const squatterAccounts = Array.from({ length: 100 }, (_, i) => `squat-${i}`);
    const squatter = testKey({ accounts: squatterAccounts });
    const payee = testKey({ accounts: ['shop-v'] });
    const payer = testKey({ accounts: ['buyer'] });
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      apiKeys: new MemoryApiKeyStore([squatter.record, payee.record, payer.record]),
    });
    for (const p of squatterAccounts)
      await post(app, squatter.key, { id: 'order-2', payer: p, payee: 'shop', amount: 1, currency: 'EUR' });
    await post(app, payer.key, {
      id: 'order-2',
      payer: 'buyer',
      payee: 'shop-v',
      amount: 7,
      currency: 'EUR',
    });
    const found = await app.request('/payments/order-2', {
      headers: { authorization: `Bearer ${payee.key}` },
    });
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ payer: 'buyer', payee: 'shop-v', amount: 7 });
  });
});

/** What a 503 may not say: gRPC status names, socket errors, addresses (case matters: `unavailable` is ours). */
const RAW_TEXT =
  /UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|ECONNREFUSED|127\.0\.0\.1|grpc|gRPC|No connection|connect /;

describe('503 bodies carry no etcd, gRPC or PostgreSQL text (issue 17 §7)', () => {
  // Nothing listens on port 1 of loopback: every call fails with the client's own text.
  const deadEtcd = () =>
    createEtcdClient({ endpoints: ['http://127.0.0.1:1'], callDeadlineMs: 300, attempts: 1 });

  it('a ledger read against an unreachable etcd answers 503 with the stable message', async () => {
    const client = deadEtcd();
    const app = createTestApp({
      ledger: new EtcdLedger({ client, operationDeadlineMs: 3000, batching: false }),
      clock: systemClock,
      hostId: 'h1',
    });
    try {
      const response = await app.request('/payments/order-1?payer=alice');
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status).toBe(503);
      expect(body.error.code).toBe('unavailable');
      expect(body.error.message).not.toMatch(RAW_TEXT);
      expect(body.error.message).toBe('the ledger is unavailable; retry');
    } finally {
      client.close();
    }
  });

  it('the API key store against an unreachable etcd answers 503 with the stable message', async () => {
    const client = deadEtcd();
    const app = createTestApp({
      ledger: new MemoryLedger(),
      clock: systemClock,
      hostId: 'h1',
      // The test app seeds its admin key with create(); only the lookup goes to the dead etcd.
      apiKeys: Object.assign(new EtcdApiKeyStore(client, { deadlineMs: 3000 }), {
        create: async () => {},
      }) as unknown as MemoryApiKeyStore,
    });
    try {
      const response = await app.request('/payments/order-1?payer=alice', {
        headers: { authorization: `Bearer ${testKey().key}` },
      });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status).toBe(503);
      expect(body.error.message).not.toMatch(RAW_TEXT);
    } finally {
      client.close();
    }
  });

  it('the archive against an unreachable PostgreSQL fails with a stable message', async () => {
    const archive = new PgArchive({ url: 'postgres://payments@127.0.0.1:1/payments', connectTimeoutMs: 500 });
    try {
      const error = await archive.get('order-1', 'alice').catch((e: Error) => e);
      expect(error).toMatchObject({ code: 'archive_unavailable' });
      expect((error as Error).message).not.toMatch(RAW_TEXT);
    } finally {
      await archive.close();
    }
  });
});

describe('an abandoned read cancels its etcd call in flight (issue 17 §4)', () => {
  /** Starts a call through the options' interceptor, as grpc-js would, and returns it. */
  const start = (options: EtcdCallOptions | undefined) => {
    const call = { cancelWithStatus: vi.fn() };
    const interceptor = options?.interceptors?.[0];
    expect(interceptor).toBeDefined();
    interceptor?.({} as never, (() => call) as never);
    return call;
  };

  it('cancels with CANCELLED when the signal fires, and at once when it already has', () => {
    const controller = new AbortController();
    const call = start(cancellableCall(controller.signal));
    expect(call.cancelWithStatus).not.toHaveBeenCalled();
    controller.abort();
    expect(call.cancelWithStatus).toHaveBeenCalledWith(1, expect.any(String));
    expect(start(cancellableCall(controller.signal)).cancelWithStatus).toHaveBeenCalledTimes(1);
  });

  it('a history read whose client went away cancels the etcd range it waits on and answers 503', async () => {
    const calls: { cancelWithStatus: ReturnType<typeof vi.fn> }[] = [];
    const kv = {
      // An etcd range that never answers: only its cancellation ends it.
      range: (_request: unknown, options?: EtcdCallOptions) => {
        calls.push(start(options));
        return new Promise(() => {});
      },
    };
    const ledger = new EtcdLedger({ client: { kv } as unknown as Etcd3, batching: false });
    const client = new AbortController();
    const read = ledger.history({ account: 'alice', limit: 10 }, { signal: client.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.abort();
    await expect(read).rejects.toMatchObject({ code: 'unavailable' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.cancelWithStatus).toHaveBeenCalledWith(1, expect.any(String));
  });
});
