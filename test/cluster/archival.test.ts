/**
 * Archival against a real three-member etcd cluster (issue 14, items 2-4): the tiered ledger
 * passes the ledger contract with nothing archived and with every payment archived as soon as it
 * is committed; the leader killed at each step of a pass (a deterministic fault hook) loses and
 * duplicates nothing; a deposed leader's removal is refused; an id archived after a host checked
 * the summary is not committed twice; and while the archive is down, hot reads and new ids work,
 * archived ones get ArchiveUnavailableError, and archival resumes afterwards.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { LeaderElection } from '../../coordination/cluster/leader-election';
import {
  type ArchivalStep,
  LedgerArchiver,
  type LedgerArchiverOptions,
} from '../../coordination/cluster/ledger-archiver';
import { waitFor } from '../../dev/cluster/managed-process';
import { MemoryArchive } from '../../ledger/archive/memory-archive';
import { ArchivedIdsChangedError, ArchiveUnavailableError, NotLeaderError } from '../../ledger/errors';
import { ArchivedIdCache } from '../../ledger/etcd/archived-id-cache';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { keyLayout } from '../../ledger/etcd/key-layout';
import type { StoredPayment } from '../../ledger/payment';
import { TieredLedger } from '../../ledger/tiered-ledger';
import { intent, ledgerContract } from '../contracts/ledger-contract';
import { archiveEachCommit } from '../support/archive-each-commit';
import { hotRecordCount, startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  // An election closed twice (the deposed leader's) may not answer again: bound each close.
  const bounded = (close: () => unknown) =>
    Promise.race([Promise.resolve(close()).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  for (const close of closers.reverse()) await bounded(close);
  await cluster?.stop();
});

interface Tiers {
  root: string;
  ledger: TieredLedger;
  hot: EtcdLedger;
  archive: MemoryArchive;
  election: LeaderElection;
  archiver: (faults?: (step: ArchivalStep) => void) => LedgerArchiver;
}

/** A fresh root with its own leader, a tiered ledger over etcd and a memory archive. */
async function tiers(archive: MemoryArchive = new MemoryArchive(), hostId = 'leader'): Promise<Tiers> {
  const root = `/test/${randomUUID()}`;
  const client = cluster.client();
  const hot = new EtcdLedger({ client, root });
  const archivedIds = new ArchivedIdCache(client, keyLayout(root));
  const ledger = new TieredLedger({ hot, archive, archivedIds });
  const election = new LeaderElection({
    client,
    clock: systemClock,
    root,
    self: { id: hostId, url: 'http://x' },
  });
  election.start();
  closers.push(
    () => election.close(),
    () => archivedIds.close(),
  );
  await waitFor('leader', async () => election.isLeader(), 10_000);
  const archiver = (faults?: (step: ArchivalStep) => void) =>
    new LedgerArchiver({
      client,
      election,
      archive,
      archivedIds: new ArchivedIdCache(client, keyLayout(root)),
      clock: systemClock,
      hotWindowMs: 0,
      root,
      batchSize: 7, // several steps per pass
      scanSize: 23, // revisions cut by the scan limit
      maxTxnOps: 16, // several removal transactions per bucket
      faults,
    });
  return { root, ledger, hot, archive, election, archiver };
}

const context = () => ({ host: 'h1', committedAt: new Date(Date.now() - 1000).toISOString() });

/** Every payment of the account, page by page (page size 3, so pages cross the tier boundary). */
async function fullHistory(ledger: TieredLedger, account: string): Promise<StoredPayment[]> {
  const all: StoredPayment[] = [];
  let afterSequence: number | undefined;
  for (let page = 0; page < 100; page++) {
    const { payments, continueAfter } = await ledger.history({ account, limit: 3, afterSequence });
    all.push(...payments);
    if (continueAfter === undefined) return all;
    afterSequence = continueAfter;
  }
  throw new Error('history did not end');
}

ledgerContract('tiered (etcd + memory archive), nothing archived', async () => (await tiers()).ledger);

ledgerContract('tiered, every payment archived as soon as it is committed', async () => {
  const t = await tiers();
  return archiveEachCommit(t.ledger, t.archiver());
});

/** An archiver of these tiers with the production step sizes unless `options` says otherwise. */
function archiverOver(t: Tiers, options: Partial<LedgerArchiverOptions>): LedgerArchiver {
  const client = cluster.client();
  return new LedgerArchiver({
    client,
    election: t.election,
    archive: t.archive,
    archivedIds: new ArchivedIdCache(client, keyLayout(t.root)),
    clock: systemClock,
    hotWindowMs: 0,
    root: t.root,
    ...options,
  });
}

/** etcd's `version` (writes since creation) of every summary level under the root. */
async function levelVersions(root: string): Promise<number[]> {
  const { kvs } = await cluster.client().getAll().prefix(keyLayout(root).archivedIdsPrefix()).exec();
  return kvs.filter((kv) => /\/\d+\/\d+$/.test(kv.key.toString())).map((kv) => Number(kv.version));
}

/** Commits `n` payments between two accounts, alternating sides, and returns them in commit order. */
async function commitSome(ledger: TieredLedger, n: number): Promise<StoredPayment[]> {
  const done: StoredPayment[] = [];
  for (let i = 0; i < n; i += 5) {
    const batch = Array.from({ length: Math.min(5, n - i) }, (_, k) =>
      intent((i + k) % 2 ? { payer: 'acct-a', payee: 'acct-b' } : { payer: 'acct-b', payee: 'acct-a' }),
    );
    done.push(...(await Promise.all(batch.map((p) => ledger.commit(p, context())))).map((o) => o.payment));
  }
  return done.sort((a, b) => a.sequence - b.sequence);
}

/** Nothing lost, nothing doubled: every payment reads back, replays, and appears once in both histories. */
async function expectExactlyOnce(t: Tiers, committed: StoredPayment[]): Promise<void> {
  for (const p of committed) {
    expect(await t.ledger.get(p.id, p.payer)).toEqual(p);
    expect(await t.ledger.findById(p.id)).toEqual([p]);
    const retry = await t.ledger.commit(
      { id: p.id, payer: p.payer, payee: p.payee, amount: p.amount, currency: p.currency },
      context(),
    );
    expect(retry).toEqual({ kind: 'replayed', payment: p });
  }
  for (const account of ['acct-a', 'acct-b']) expect(await fullHistory(t.ledger, account)).toEqual(committed);
}

describe('archival', () => {
  it('moves every payment past the hot window, in commit order, and the tiers read as one', async () => {
    const t = await tiers();
    const committed = await commitSome(t.ledger, 30);
    // A pass scans 23 keys at most: two passes, the second starting where the scan was cut.
    const archiver = t.archiver();
    const moved = [(await archiver.runOnce())?.moved, (await archiver.runOnce())?.moved];
    expect(moved[0]).toBeLessThanOrEqual(23);
    expect(moved[0]! + moved[1]!).toBe(30);
    expect(await hotRecordCount(cluster.client(), t.root)).toBe(0);
    expect((await t.archive.history({ account: 'acct-a', limit: 1000 })).payments).toEqual(committed);
    await expectExactlyOnce(t, committed);
    // New payments after the boundary: history runs on across it, in one sequence order.
    const later = await commitSome(t.ledger, 6);
    expect(await fullHistory(t.ledger, 'acct-a')).toEqual([...committed, ...later]);
  });

  it('keeps payments inside the hot window in etcd', async () => {
    const t = await tiers();
    await commitSome(t.ledger, 4);
    const fresh = await t.ledger.commit(intent({ payer: 'acct-a', payee: 'acct-b' }), {
      host: 'h1',
      committedAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await t.archiver().runOnce();
    expect(await hotRecordCount(cluster.client(), t.root)).toBe(1);
    expect(await t.archive.get(fresh.payment.id, fresh.payment.payer)).toBeUndefined();
  });

  it('regression: archival catch-up rewrote every touched summary level once per 1 000 ids and took a 64 MiB etcd past its quota; a step rewrites each level once', async () => {
    const t = await tiers();
    await commitSome(t.ledger, 400);
    expect((await archiverOver(t, { hotWindowMs: 0 }).runOnce())?.moved).toBe(400);
    // etcd's `version` of a key counts its writes: one step (the default size) wrote each level once.
    const levels = await levelVersions(t.root);
    expect(levels.length).toBeGreaterThan(100);
    expect(Math.max(...levels)).toBe(1);
    // The old size, 100 ids a step here: the same ids rewrite a level several times.
    const u = await tiers();
    await commitSome(u.ledger, 400);
    expect((await archiverOver(u, { hotWindowMs: 0, batchSize: 100 }).runOnce())?.moved).toBe(400);
    expect(Math.max(...(await levelVersions(u.root)))).toBeGreaterThan(1);
  });

  it('waits for minBatch due payments, or for the oldest to be maxBatchDelayMs past the window; holds while told to', async () => {
    const client = cluster.client();
    let hold: string | undefined;
    /** Five due payments (committed 1 s ago) and one still hot behind them. */
    const setUp = async () => {
      const t = await tiers();
      const due = await commitSome(t.ledger, 5);
      const fresh = await t.ledger.commit(intent({ payer: 'acct-a', payee: 'acct-b' }), {
        host: 'h1',
        committedAt: new Date(Date.now() + 60_000).toISOString(),
      });
      const archiver = (minBatch: number, maxBatchDelayMs: number, observer = {}) =>
        archiverOver(t, { hotWindowMs: 500, minBatch, maxBatchDelayMs, holdReason: () => hold, observer });
      return { t, committed: [...due, fresh.payment], archiver };
    };
    const a = await setUp();
    hold = 'etcd near its quota';
    expect((await a.archiver(1, 0).runOnce())?.moved).toBe(0);
    hold = undefined;
    expect((await a.archiver(10, 60_000).runOnce())?.moved).toBe(0); // 5 due, none a minute overdue
    expect(await hotRecordCount(client, a.t.root)).toBe(6);
    expect((await a.archiver(10, 0).runOnce())?.moved).toBe(5); // overdue
    await expectExactlyOnce(a.t, a.committed);
    // One archiver that decided to wait does not scan again until the oldest can be overdue.
    const c = await setUp();
    let looked = 0;
    const waiting = c.archiver(10, 4_000, { onLag: () => looked++ });
    expect((await waiting.runOnce())?.moved).toBe(0);
    expect(looked).toBe(1);
    expect((await waiting.runOnce())?.moved).toBe(0);
    expect(looked).toBe(1); // quiet: no scan
    await waitFor('overdue', async () => ((await waiting.runOnce())?.moved ?? 0) === 5, 8_000);
    expect(await hotRecordCount(client, c.t.root)).toBe(1);
    const b = await setUp();
    expect((await b.archiver(5, 60_000).runOnce())?.moved).toBe(5); // enough due
    expect(await hotRecordCount(client, b.t.root)).toBe(1);
    await expectExactlyOnce(b.t, b.committed);
  });

  for (const [step, nth] of [
    ['after-insert', 1],
    ['after-mark', 1],
    ['after-removal', 1],
    ['after-removal', 3],
  ] as const) {
    it(`loses and duplicates nothing when the leader stops ${step} (#${nth}), and the next pass completes`, async () => {
      const t = await tiers();
      const committed = await commitSome(t.ledger, 20);
      let seen = 0;
      const killed = t.archiver((s) => {
        if (s === step && ++seen === nth) throw new Error(`killed ${step}`);
      });
      await expect(killed.runOnce()).rejects.toThrow(`killed ${step}`);
      // Between the steps: every payment still answers, exactly once, from whichever tier holds it.
      await expectExactlyOnce(t, committed);
      const resumed = await t.archiver().runOnce();
      expect(resumed?.moved).toBeGreaterThan(0);
      expect(await hotRecordCount(cluster.client(), t.root)).toBe(0);
      expect((await t.archive.history({ account: 'acct-a', limit: 1000 })).payments).toEqual(committed);
      await expectExactlyOnce(t, committed);
    });
  }

  it("refuses a deposed leader's removal: the records stay in etcd until the new leader moves them", async () => {
    const t = await tiers();
    const committed = await commitSome(t.ledger, 10);
    const successor = new LeaderElection({
      client: cluster.client(),
      clock: systemClock,
      root: t.root,
      self: { id: 'successor', url: 'http://y' },
    });
    closers.push(() => successor.close());
    successor.start();
    const deposed = t.archiver(() => {
      throw new Error('unreachable');
    });
    const pausedAtInsert = t.archiver(async (s) => {
      if (s !== 'after-insert') return;
      await t.election.close(); // resigns: the successor wins while this pass is "paused"
      await waitFor('successor leads', async () => successor.isLeader(), 10_000);
    });
    await expect(pausedAtInsert.runOnce()).rejects.toBeInstanceOf(NotLeaderError);
    expect(await hotRecordCount(cluster.client(), t.root)).toBe(10);
    expect(await deposed.runOnce()).toBeUndefined(); // no longer leads: does nothing
    const next = new LedgerArchiver({
      client: cluster.client(),
      election: successor,
      archive: t.archive,
      archivedIds: new ArchivedIdCache(cluster.client(), keyLayout(t.root)),
      clock: systemClock,
      hotWindowMs: 0,
      root: t.root,
    });
    expect((await next.runOnce())?.moved).toBe(10);
    await expectExactlyOnce(t, committed);
  });

  it('regression: an id archived after the host checked the summary is refused by etcd, then replayed', async () => {
    const t = await tiers();
    const [p] = await commitSome(t.ledger, 1);
    const cache = new ArchivedIdCache(cluster.client(), keyLayout(t.root));
    closers.push(() => cache.close());
    const stale = await cache.check(p!.id);
    expect(stale.mayBeArchived).toBe(false);
    await t.archiver().runOnce();
    const again = { id: p!.id, payer: p!.payer, payee: p!.payee, amount: p!.amount, currency: p!.currency };
    // The commit as a host with the stale check would send it: etcd refuses it, nothing written.
    await expect(t.hot.commit(again, context(), stale.guard)).rejects.toBeInstanceOf(ArchivedIdsChangedError);
    expect(await hotRecordCount(cluster.client(), t.root)).toBe(0);
    expect(await t.ledger.commit(again, context())).toEqual({ kind: 'replayed', payment: p });
    await expect(t.ledger.commit({ ...again, amount: again.amount + 1 }, context())).rejects.toThrow(
      /different content/,
    );
  });

  it('while the archive is down: hot reads and new ids work, archived ones get 503, archival resumes after', async () => {
    const archive = new MemoryArchive();
    const t = await tiers(archive);
    const old = await commitSome(t.ledger, 8);
    await t.archiver().runOnce();
    const hot = await commitSome(t.ledger, 4);
    archive.unavailable = true;
    for (const p of hot) expect(await t.ledger.get(p.id, p.payer)).toEqual(p);
    const fresh = await commitSome(t.ledger, 10);
    expect(fresh).toHaveLength(10);
    await expect(t.ledger.get(old[0]!.id, old[0]!.payer)).rejects.toBeInstanceOf(ArchiveUnavailableError);
    await expect(t.ledger.commit(old[0]!, context())).rejects.toBeInstanceOf(ArchiveUnavailableError);
    await expect(t.ledger.history({ account: 'acct-a', limit: 10 })).rejects.toBeInstanceOf(
      ArchiveUnavailableError,
    );
    await expect(t.archiver().runOnce()).rejects.toBeInstanceOf(ArchiveUnavailableError);
    expect(await hotRecordCount(cluster.client(), t.root)).toBe(14);
    archive.unavailable = false;
    expect((await t.archiver().runOnce())?.moved).toBe(14);
    await expectExactlyOnce(t, [...old, ...hot, ...fresh]);
  });
});
