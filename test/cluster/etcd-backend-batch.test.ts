/**
 * The launcher bounds etcd's write batch (DEFAULT_BACKEND_BATCH_LIMIT, dev/cluster/etcd-cluster.ts
 * says why). Fault pinned: *archival-burst-read-buffer*, where one burst of writes left every
 * later transaction at twice its CPU. Checked on etcd's own count of backend commits, with the
 * commit interval raised to a minute so that only the batch limit can commit: each transaction
 * larger than the limit is committed at once. Under etcd's own limit (10 000) the ten
 * transactions below make one commit.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_BACKEND_BATCH_LIMIT } from '../../dev/cluster/etcd-cluster';
import { type ScratchCluster, startScratchCluster } from '../../dev/cluster/scratch-cluster';
import { etcdMetric } from '../support/etcd-metric';

let cluster: ScratchCluster;

beforeAll(async () => {
  cluster = await startScratchCluster({ members: 1, secure: false, etcdBackendBatchIntervalMs: 60_000 });
});

afterAll(async () => {
  await cluster?.stop();
});

it('archival-burst-read-buffer: writes are committed every DEFAULT_BACKEND_BATCH_LIMIT', async () => {
  expect(DEFAULT_BACKEND_BATCH_LIMIT).toBeLessThanOrEqual(1000);
  const client = cluster.client({ callDeadlineMs: 10_000 });
  const commits = () =>
    etcdMetric(cluster.etcd.members[0]!, 'etcd_disk_backend_commit_duration_seconds_count');
  const transactions = 10;
  const before = await commits();
  for (let t = 0; t < transactions; t++) {
    await client.kv.txn({
      success: Array.from({ length: DEFAULT_BACKEND_BATCH_LIMIT + 500 }, (_, i) => ({
        request_put: { key: Buffer.from(`/burst/${t}/${i}`), value: Buffer.from('x') },
      })),
    });
  }
  expect((await commits()) - before).toBeGreaterThanOrEqual(transactions);
});
