/**
 * Group commit against a real etcd member started with a small --max-txn-ops: duplicates and
 * conflicts that share one transaction keep their own answers, and batches that etcd refuses
 * (too many operations, request too large) are split so that no payment is lost or misanswered.
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { ensurePki } from '../../dev/cluster/certificates';
import { ensureEtcd } from '../../dev/cluster/ensure-etcd';
import { EtcdCluster } from '../../dev/cluster/etcd-cluster';
import { IdempotencyConflictError } from '../../ledger/errors';
import type { CommitBatcherOptions } from '../../ledger/etcd/commit-batcher';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { revisionOf } from '../../ledger/etcd/sequence';
import { intent } from '../contracts/ledger-contract';

const ETCD_MAX_TXN_OPS = 32;
let dir: string;
let etcd: EtcdCluster;
let client: Etcd3;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'payments-batcher-'));
  // OS-chosen ports: a fixed scan order collides with the other test files' clusters started at once.
  const port = () => getPort();
  etcd = new EtcdCluster({
    binary: ensureEtcd(),
    dir,
    members: [{ name: 'n1', clientPort: await port(), peerPort: await port(), metricsPort: await port() }],
    maxTxnOps: ETCD_MAX_TXN_OPS,
    pki: await ensurePki({ dir: join(dir, 'pki'), members: ['n1'] }),
  });
  await etcd.start();
  client = createEtcdClient({ endpoints: etcd.clientUrls(), tls: etcd.credentials() });
});
afterAll(async () => {
  client?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ledgerWith = (batching: CommitBatcherOptions) =>
  new EtcdLedger({
    client,
    root: `/test/${randomUUID()}`,
    readsPerTxn: 16, // history reads must fit the small --max-txn-ops too
    batching: { maxTxnOps: ETCD_MAX_TXN_OPS, ...batching },
  });
const ctx = () => ({ host: 'h1', committedAt: new Date().toISOString() });
const kindOf = (r: PromiseSettledResult<{ kind: string }>) =>
  r.status === 'fulfilled'
    ? r.value.kind
    : r.reason instanceof IdempotencyConflictError
      ? 'conflict'
      : String(r.reason);

describe('group commit on etcd', () => {
  it('answers duplicates and conflicts that share one transaction each on its own', async () => {
    const ledger = ledgerWith({ maxInFlight: 1 });
    const already = intent();
    await ledger.commit(already, ctx());
    const batchesBefore = ledger.batcher!.stats.batches;
    const dup = intent();
    const fresh = intent();
    const outcomes = await Promise.allSettled([
      ledger.commit(dup, ctx()),
      ledger.commit(dup, ctx()), // same id and content
      ledger.commit({ ...dup, amount: dup.amount + 1 }, ctx()), // same id, other content
      ledger.commit(already, ctx()), // already in etcd
      ledger.commit({ ...already, currency: 'USD' }, ctx()), // conflicts with etcd
      ledger.commit(fresh, ctx()),
    ]);
    expect(ledger.batcher!.stats.batches - batchesBefore).toBe(1);
    expect(outcomes.map(kindOf)).toEqual([
      'committed',
      'replayed',
      'conflict',
      'replayed',
      'conflict',
      'committed',
    ]);
    const stored = await ledger.get(dup.id, dup.payer);
    expect(stored?.amount).toBe(dup.amount);
    const [a, b] = outcomes;
    expect(a.status === 'fulfilled' && b.status === 'fulfilled' && a.value.payment).toEqual(stored);
    expect(b.status === 'fulfilled' && b.value.payment).toEqual(stored);
  });

  it('commits one id under two payers in one transaction as two payments, and dedups each payer', async () => {
    const ledger = ledgerWith({ maxInFlight: 1 });
    const id = `shared-${randomUUID()}`;
    const a = intent({ id, payer: 'batch-a' });
    const b = intent({ id, payer: 'batch-b', amount: a.amount + 5 });
    const batchesBefore = ledger.batcher!.stats.batches;
    const outcomes = await Promise.allSettled([
      ledger.commit(a, ctx()),
      ledger.commit(b, ctx()),
      ledger.commit(a, ctx()), // same payer and id, same content
      ledger.commit({ ...b, amount: a.amount }, ctx()), // same payer and id, other content
    ]);
    expect(ledger.batcher!.stats.batches - batchesBefore).toBe(1);
    expect(outcomes.map(kindOf)).toEqual(['committed', 'committed', 'replayed', 'conflict']);
    const found = await ledger.findById(id);
    expect(found.map((p) => [p.payer, p.amount])).toEqual([
      ['batch-a', a.amount],
      ['batch-b', b.amount],
    ]);
    expect(new Set(found.map((p) => revisionOf(p.sequence))).size).toBe(1);
  });

  it('splits a batch that etcd refuses for too many operations; each payment is committed once, in order', async () => {
    // The batcher is told etcd allows 4096 ops, so it builds batches etcd refuses.
    const ledger = ledgerWith({ maxTxnOps: 4096, maxInFlight: 1 });
    const items = Array.from({ length: 3 * ETCD_MAX_TXN_OPS }, () => intent({ payer: 'split-ops' }));
    const outcomes = await Promise.all(items.map((p) => ledger.commit(p, ctx())));
    expect(outcomes.every((o) => o.kind === 'committed')).toBe(true);
    expect(ledger.batcher!.stats.splits).toBeGreaterThan(0);
    const sequences = outcomes.map((o) => o.payment.sequence);
    expect(new Set(sequences).size).toBe(items.length);
    expect(new Set(sequences.map(revisionOf)).size).toBeGreaterThan(1);
    for (const [i, p] of items.entries())
      expect((await ledger.get(p.id, p.payer))?.sequence).toBe(sequences[i]);
    const history = await ledger.history({ account: 'split-ops', limit: 1000 });
    expect(history.payments.map((p) => p.id).sort()).toEqual(items.map((p) => p.id).sort());
  });

  it('splits a batch that etcd refuses as too large (over --max-request-bytes, 1.5 MiB)', async () => {
    // ~14.5 KB each, under the 16 KiB payment cap (MAX_PAYMENT_BYTES): 110 payments are ~1.6 MB,
    // over etcd's 1.5 MiB but under gRPC's 2 MiB frame limit.
    const metadata = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'x'.repeat(250)]));
    const description = 'y'.repeat(1_000);
    const ledger = ledgerWith({ maxTxnOps: 4096, maxBatchBytes: Number.POSITIVE_INFINITY, maxInFlight: 1 });
    const items = Array.from({ length: 110 }, () => intent({ payer: 'split-bytes', metadata, description }));
    const dup = items[3]!;
    const outcomes = await Promise.allSettled([
      ...items.map((p) => ledger.commit(p, ctx())),
      ledger.commit(dup, ctx()),
      ledger.commit({ ...dup, amount: 1 }, ctx()),
    ]);
    expect(outcomes.map(kindOf)).toEqual([...items.map(() => 'committed'), 'replayed', 'conflict']);
    expect(ledger.batcher!.stats.splits).toBeGreaterThan(0);
    for (const p of items) expect((await ledger.get(p.id, p.payer))?.metadata).toEqual(metadata);
  });
});
