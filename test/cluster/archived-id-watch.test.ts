/**
 * The archived-id cache's watch (ledger/etcd/archived-id-cache.ts) against a real three-member
 * etcd cluster, when etcd ends it: the cache's client reaches one member only; that member is
 * SIGKILLed, ids are archived and etcd is compacted to its head meanwhile, and the member comes
 * back, so the watch resumes from a compacted revision and etcd cancels it. The cache must list
 * again and watch from the new revision (ledger/etcd/resilient-watch.ts), count the restart under
 * its own watch name, say it is stale meanwhile, and keep following the summary afterwards.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import { LeaderElection } from '../../coordination/cluster/leader-election';
import { LedgerArchiver } from '../../coordination/cluster/ledger-archiver';
import { waitFor } from '../../dev/cluster/managed-process';
import { MemoryArchive } from '../../ledger/archive/memory-archive';
import { ArchivedIdCache } from '../../ledger/etcd/archived-id-cache';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { keyLayout } from '../../ledger/etcd/key-layout';
import { intent } from '../contracts/ledger-contract';
import { hotRecordCount, startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);
afterAll(async () => {
  const bounded = (close: () => unknown) =>
    Promise.race([Promise.resolve(close()).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  for (const close of closers.reverse()) await bounded(close);
  await cluster?.stop();
});

const context = () => ({ host: 'h1', committedAt: new Date(Date.now() - 1000).toISOString() });

describe('archived-id cache watch', () => {
  it('regression: a summary watch ended by compaction is rebuilt: later archived ids reach the cache, the restart is counted', async () => {
    const root = `/test/${randomUUID()}`;
    const client = cluster.client();
    const hot = new EtcdLedger({ client, root });
    const election = new LeaderElection({
      client,
      clock: systemClock,
      root,
      self: { id: 'leader', url: 'http://x' },
    });
    election.start();
    closers.push(() => election.close());
    await waitFor('leader', async () => election.isLeader(), 10_000);
    const archiver = new LedgerArchiver({
      client,
      election,
      archive: new MemoryArchive(),
      archivedIds: new ArchivedIdCache(client, keyLayout(root)),
      clock: systemClock,
      hotWindowMs: 0,
      root,
    });
    /** Commits `n` payments and archives them all (retrying while etcd or the leadership moves). */
    const archiveSome = async (n: number): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await hot.commit(intent(), context())).payment.id);
      await waitFor(
        'payments archived',
        async () => {
          await archiver.runOnce().catch(() => undefined);
          return (await hotRecordCount(client, root)) === 0;
        },
        20_000,
      );
      return ids;
    };

    const member = cluster.etcd.members[0]!;
    const restarts: [string, string][] = [];
    const cache = new ArchivedIdCache(cluster.client({ endpoints: [member.clientUrl] }), keyLayout(root), {
      retryDelayMs: 200,
      onWatchRestart: (watch, reason) => restarts.push([watch, reason]),
    });
    closers.push(() => cache.close());
    await cache.start();
    const first = await archiveSome(3);
    await waitFor('first ids in the cache', async () => (await cache.check(first[0]!)).mayBeArchived, 10_000);
    expect(cache.viewStale()).toBe(false);

    await member.process.kill();
    await waitFor('cache view stale', async () => cache.viewStale(), 10_000);
    const second = await archiveSome(3);
    // Move past the watch's resume point and compact to the head.
    for (let i = 0; i < 10; i++) await client.put(`${root}/filler/${i}`).value(String(i));
    const head = (await client.get(`${root}/filler/0`).exec()).header.revision;
    await client.kv.compact({ revision: head });
    expect((await cache.check(second[0]!)).mayBeArchived).toBe(false); // missed while cut off

    await cluster.etcd.restartMember(member.name);
    await waitFor(
      'cache rebuilt from a fresh listing',
      async () => (await cache.check(second[0]!)).mayBeArchived && !cache.viewStale(),
      20_000,
    );
    // etcd 3.4 cancels a compacted watch with an empty reason: `canceled` (resilient-watch.ts, watchEndReason).
    expect(restarts).toContainEqual(['archived-ids', expect.stringMatching(/^(compacted|canceled)$/)]);

    // The rebuilt watch follows the summary again.
    const third = await archiveSome(3);
    await waitFor('later ids in the cache', async () => (await cache.check(third[0]!)).mayBeArchived, 10_000);
    for (const id of [...first, ...second, ...third])
      expect((await cache.check(id)).mayBeArchived).toBe(true);
  }, 120_000);
});
