/**
 * The launcher bounds etcd's write batch (DEFAULT_BACKEND_BATCH_LIMIT, dev/cluster/etcd-cluster.ts):
 * etcd 3.4 copies its read buffer's whole capacity for every read and every transaction, and the
 * capacity grows to the most writes pending between two bbolt commits, for good. Fault pinned:
 * *archival-burst-read-buffer*, where one archival burst left every later transaction at twice
 * its CPU. Checked on etcd's own count of backend commits: writes past the limit are committed at
 * once, not when the 100 ms interval ends.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_BACKEND_BATCH_LIMIT } from '../../dev/cluster/etcd-cluster';
import { type ScratchCluster, startScratchCluster } from '../../dev/cluster/scratch-cluster';

let cluster: ScratchCluster;

beforeAll(async () => {
  cluster = await startScratchCluster({ members: 1, secure: false });
});

afterAll(async () => {
  await cluster?.stop();
});

async function backendCommits(): Promise<number> {
  const member = cluster.etcd.members[0]!;
  const metrics = await (await fetch(`http://127.0.0.1:${member.spec.metricsPort}/metrics`)).text();
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('etcd_disk_backend_commit_duration_seconds_count '));
  return Number(line?.split(' ')[1]);
}

it('archival-burst-read-buffer: a burst of writes is committed every DEFAULT_BACKEND_BATCH_LIMIT writes', async () => {
  expect(DEFAULT_BACKEND_BATCH_LIMIT).toBeLessThanOrEqual(1000);
  const client = cluster.client({ callDeadlineMs: 10_000 });
  const transactions = 10;
  const putsPerTxn = Math.ceil(DEFAULT_BACKEND_BATCH_LIMIT * 1.5);
  const before = await backendCommits();
  // Back to back, so that under etcd's own limit (10 000) they would share one or two
  // interval commits: 15 000 writes in about 100-300 ms here.
  for (let t = 0; t < transactions; t++) {
    await client.kv.txn({
      success: Array.from({ length: putsPerTxn }, (_, i) => ({
        request_put: { key: Buffer.from(`/burst/${t}/${i}`), value: Buffer.from('x') },
      })),
    });
  }
  expect((await backendCommits()) - before).toBeGreaterThanOrEqual(transactions);
});
