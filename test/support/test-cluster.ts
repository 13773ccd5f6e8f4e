/**
 * A real cluster for one test file (dev/cluster/scratch-cluster.ts): real etcd members and
 * function host processes on free loopback ports, in a temporary directory removed afterwards
 * unless KEEP_TEST_DIRS is set (to read the logs of a failing run).
 */

import type { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { useApiKey } from '../../dev/cluster/http';
import {
  type ScratchCluster,
  type ScratchClusterOptions,
  startScratchCluster,
} from '../../dev/cluster/scratch-cluster';
import { keyLayout, prefixEnd } from '../../ledger/etcd/key-layout';

export type TestClusterOptions = Omit<ScratchClusterOptions, 'dirPrefix' | 'keepDir'>;
export type TestCluster = ScratchCluster;

/** Starts the cluster, and makes its admin key the one dev/cluster/http.ts sends by default. */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const cluster = await startScratchCluster({
    ...options,
    dirPrefix: 'payments-test-',
    keepDir: Boolean(process.env.KEEP_TEST_DIRS),
  });
  useApiKey(cluster.adminKey);
  return cluster;
}

/** The environment a child process (test/support/*-leader.ts) needs to reach the cluster as root. */
export function childEtcdEnv(cluster: TestCluster): Record<string, string> {
  return {
    ETCD_ENDPOINTS: cluster.etcd.clientUrls().join(','),
    ...(cluster.pki && {
      ETCD_CA_FILE: cluster.pki.caFile,
      ETCD_CERT_FILE: cluster.pki.user('root').certFile,
      ETCD_KEY_FILE: cluster.pki.user('root').keyFile,
    }),
  };
}

/** Payment records left in etcd under a ledger root (what archival has not moved yet). */
export async function hotRecordCount(
  client: ReturnType<typeof createEtcdClient>,
  root: string,
): Promise<number> {
  const prefix = keyLayout(root).paymentsPrefix();
  const response = await client.kv.range({
    key: Buffer.from(prefix),
    range_end: prefixEnd(prefix),
    count_only: true,
  });
  return Number(response.count);
}
