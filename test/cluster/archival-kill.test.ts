/**
 * On a real PostgreSQL archive: the ledger contract with every payment archived at once, and a
 * real kill of the archiving leader (issue 14, item 2): a leader process is SIGKILLed in the
 * middle of an archival pass over a real PostgreSQL archive (after the insert, before any removal;
 * and between two removal transactions). The next leader finishes the pass, and every payment
 * reads back, replays and appears in history exactly once, from whichever tier holds it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { LeaderElection } from '../../coordination/cluster/leader-election';
import { LedgerArchiver } from '../../coordination/cluster/ledger-archiver';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';
import { waitFor } from '../../dev/cluster/managed-process';
import { PgArchive } from '../../ledger/archive/pg-archive';
import { ArchivedIdCache } from '../../ledger/etcd/archived-id-cache';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { keyLayout } from '../../ledger/etcd/key-layout';
import type { StoredPayment } from '../../ledger/payment';
import { TieredLedger } from '../../ledger/tiered-ledger';
import { intent, ledgerContract } from '../contracts/ledger-contract';
import { archiveEachCommit } from '../support/archive-each-commit';
import { childEtcdEnv, hotRecordCount, startTestCluster, type TestCluster } from '../support/test-cluster';
import { startTestPostgres, type TestPostgres } from '../support/test-postgres';

let cluster: TestCluster;
let postgres: TestPostgres;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  [cluster, postgres] = await Promise.all([startTestCluster(), startTestPostgres()]);
}, 120_000);
afterAll(async () => {
  const bounded = (close: () => unknown) =>
    Promise.race([Promise.resolve(close()).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  for (const close of closers.reverse()) await bounded(close);
  await cluster?.stop();
  await postgres?.stop();
});

const context = () => ({ host: 'h1', committedAt: new Date(Date.now() - 1000).toISOString() });

/** Runs test/support/archiving-leader.ts until it reports the step, then SIGKILLs it. */
async function killLeaderAt(root: string, archiveUrl: string, step: string, count: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'test/support/archiving-leader.ts')],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...childEtcdEnv(cluster),
        ROOT: root,
        ARCHIVE_URL: archiveUrl,
        STOP_AT: step,
        STOP_COUNT: String(count),
      },
    },
  );
  closers.push(() => child.exitCode === null && child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  for (let i = 0; i < 10; i++) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`archiving leader exited before ${step}`);
    const event = JSON.parse(value as string) as { event: string; step?: string };
    if (event.event === 'stopped') {
      expect(event.step).toBe(step);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      return;
    }
  }
  throw new Error(`archiving leader never reached ${step}`);
}

ledgerContract('tiered over PostgreSQL, every payment archived as soon as it is committed', async () => {
  const root = `/test/${randomUUID()}`;
  const client = cluster.client();
  const archive = new PgArchive({ url: (await postgres.database()).host });
  const archivedIds = new ArchivedIdCache(client, keyLayout(root));
  const ledger = new TieredLedger({ hot: new EtcdLedger({ client, root }), archive, archivedIds });
  const election = new LeaderElection({
    client,
    clock: systemClock,
    root,
    self: { id: 'c', url: 'http://c' },
  });
  closers.push(
    () => archive.close(),
    () => archivedIds.close(),
    () => election.close(),
  );
  election.start();
  await waitFor('leader', async () => election.isLeader(), 10_000);
  const archiver = new LedgerArchiver({
    client,
    election,
    archive,
    archivedIds,
    clock: systemClock,
    hotWindowMs: 0,
    root,
  });
  return archiveEachCommit(ledger, archiver);
});

describe('archival across a real kill of the leader', () => {
  for (const [step, count] of [
    ['after-insert', 1],
    ['after-removal', 2],
  ] as const) {
    it(`SIGKILL ${step} (#${count}): the next leader completes the move, nothing lost or doubled`, async () => {
      const root = `/test/${randomUUID()}`;
      const urls = await postgres.database();
      const client = cluster.client();
      const archive = new PgArchive({ url: urls.host });
      const archivedIds = new ArchivedIdCache(client, keyLayout(root));
      const ledger = new TieredLedger({ hot: new EtcdLedger({ client, root }), archive, archivedIds });
      closers.push(
        () => archive.close(),
        () => archivedIds.close(),
      );
      const committed: StoredPayment[] = [];
      for (let i = 0; i < 24; i++) {
        const p = intent(i % 2 ? { payer: 'acct-a', payee: 'acct-b' } : { payer: 'acct-b', payee: 'acct-a' });
        committed.push((await ledger.commit(p, context())).payment);
      }

      await killLeaderAt(root, urls.host, step, count);
      expect(await hotRecordCount(cluster.client(), root)).toBeGreaterThan(0);
      // Meanwhile every payment answers from one tier or the other, and a retry replays.
      for (const p of committed)
        expect(await ledger.commit(p, context())).toEqual({ kind: 'replayed', payment: p });

      const successor = new LeaderElection({
        client,
        clock: systemClock,
        root,
        self: { id: 'next', url: 'http://y' },
      });
      closers.push(() => successor.close());
      successor.start();
      await waitFor(
        'the successor leads once the killed leader lease expires',
        async () => successor.isLeader(),
        15_000,
      );
      const next = new LedgerArchiver({
        client,
        election: successor,
        archive,
        archivedIds,
        clock: systemClock,
        hotWindowMs: 0,
        root,
      });
      await next.runOnce();
      expect(await hotRecordCount(cluster.client(), root)).toBe(0);

      for (const p of committed) {
        expect(await ledger.get(p.id, p.payer)).toEqual(p);
        expect(await ledger.commit(p, context())).toEqual({ kind: 'replayed', payment: p });
        await expect(ledger.commit({ ...p, amount: p.amount + 1 }, context())).rejects.toThrow(
          /different content/,
        );
      }
      const history = await ledger.history({ account: 'acct-a', limit: 1000 });
      expect(history.payments).toEqual(committed);
      expect((await archive.history({ account: 'acct-b', limit: 1000 })).payments).toEqual(committed);
    }, 60_000);
  }
});
