/**
 * The launcher sets etcd's backend quota explicitly (issue 14): dev/cluster/etcd-cluster.ts passes
 * quotaBytes as --quota-backend-bytes, 8 GiB unless told otherwise. Read back from etcd's metrics.
 */
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_ETCD_QUOTA_BYTES } from '../../dev/cluster/etcd-cluster';
import { type ScratchCluster, startScratchCluster } from '../../dev/cluster/scratch-cluster';
import { etcdMetric } from '../support/etcd-metric';

const clusters: ScratchCluster[] = [];

async function quotaOf(etcdQuotaBytes: number | undefined): Promise<number> {
  const cluster = await startScratchCluster({ members: 1, secure: false, etcdQuotaBytes, keepDir: false });
  clusters.push(cluster);
  return etcdMetric(cluster.etcd.members[0]!, 'etcd_server_quota_backend_bytes');
}

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
});

it('passes the quota to etcd: 64 MiB when asked, 8 GiB by default', async () => {
  expect(await quotaOf(64 * 1024 ** 2)).toBe(64 * 1024 ** 2);
  expect(await quotaOf(undefined)).toBe(DEFAULT_ETCD_QUOTA_BYTES);
  expect(DEFAULT_ETCD_QUOTA_BYTES).toBe(8 * 1024 ** 3);
});
