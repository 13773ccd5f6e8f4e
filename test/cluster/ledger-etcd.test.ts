/**
 * The etcd ledger against a real three-member cluster: the shared contract, plus the properties
 * only the etcd commit path has (resent transactions, batches).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyConflictError } from '../../ledger/errors';
import type { PendingCommit } from '../../ledger/etcd/commit-transaction';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { revisionOf } from '../../ledger/etcd/sequence';
import { intent, ledgerContract } from '../contracts/ledger-contract';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

const freshLedger = () => new EtcdLedger({ client: cluster.client(), root: `/test/${randomUUID()}` });

ledgerContract('etcd', async () => freshLedger());

const pending = (p = intent(), nonce = randomUUID()): PendingCommit => ({
  intent: p,
  context: { host: 'h1', committedAt: new Date().toISOString() },
  nonce,
});

describe('etcd commit path', () => {
  it('regression: a transaction resent by the client retry after it committed is still reported as committed', async () => {
    const ledger = freshLedger();
    const item = pending();
    const [first] = await ledger.commitMany([item]);
    // The etcd3 client resends the identical request (same nonce) when the first answer was lost.
    const [resent] = await ledger.commitMany([item]);
    expect(first).toMatchObject({ ok: true, outcome: { kind: 'committed' } });
    expect(resent).toEqual(first);
  });

  it('commits a batch in one revision with distinct positions', async () => {
    const ledger = freshLedger();
    const items = [pending(), pending(), pending()];
    const results = await ledger.commitMany(items);
    const sequences = results.map((r) => (r.ok ? r.outcome.payment.sequence : Number.NaN));
    expect(new Set(sequences.map(revisionOf)).size).toBe(1);
    expect(new Set(sequences).size).toBe(3);
    for (const [i, item] of items.entries())
      expect((await ledger.get(item.intent.id, item.intent.payer))?.sequence).toBe(sequences[i]);
  });

  it('answers duplicates and conflicts inside one batch without failing the rest', async () => {
    const ledger = freshLedger();
    const already = intent();
    await ledger.commit(already, { host: 'h0', committedAt: new Date().toISOString() });
    const dup = intent();
    const batch = [
      pending(dup),
      pending(dup), // same id and content, later in the batch
      pending({ ...dup, amount: dup.amount + 1 }), // same id, other content
      pending(already), // already in etcd
      pending({ ...already, currency: 'USD' }), // conflicts with etcd
      pending(), // unrelated
    ];
    const results = await ledger.commitMany(batch);
    const kinds = results.map((r) =>
      r.ok ? r.outcome.kind : r.error instanceof IdempotencyConflictError ? 'conflict' : 'error',
    );
    expect(kinds).toEqual(['committed', 'replayed', 'conflict', 'replayed', 'conflict', 'committed']);
    const stored = await ledger.get(dup.id, dup.payer);
    expect(stored?.amount).toBe(dup.amount);
    expect(results[1]).toMatchObject({ ok: true, outcome: { payment: stored } });
  });

  it('regression: a resent transaction holding one id under two payers reports both as committed', async () => {
    const ledger = freshLedger();
    const id = `resent-${randomUUID()}`;
    const items = [pending(intent({ id, payer: 'p-a' })), pending(intent({ id, payer: 'p-b' }))];
    const first = await ledger.commitMany(items);
    const resent = await ledger.commitMany(items);
    expect(first.map((r) => r.ok && r.outcome.kind)).toEqual(['committed', 'committed']);
    expect(resent).toEqual(first);
  });

  it('keys records by id then payer, and index entries by account, id and payer', async () => {
    const root = `/test/${randomUUID()}`;
    const ledger = new EtcdLedger({ client: cluster.client(), root });
    const ctx = { host: 'h1', committedAt: new Date().toISOString() };
    await ledger.commit(intent({ id: 'x', payer: 'A', payee: 'B' }), ctx);
    await ledger.commit(intent({ id: 'x', payer: 'C', payee: 'A' }), ctx);
    const keys = await cluster.client().getAll().prefix(`${root}/`).keys();
    expect(keys.sort()).toEqual(
      [
        `${root}/accounts/A/x/A`,
        `${root}/accounts/A/x/C`,
        `${root}/accounts/B/x/A`,
        `${root}/accounts/C/x/C`,
        `${root}/payments/x/A`,
        `${root}/payments/x/C`,
      ].sort(),
    );
  });
});
