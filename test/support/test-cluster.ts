/**
 * A real cluster for one test file (dev/cluster/scratch-cluster.ts): real etcd members and
 * function host processes on free loopback ports, in a temporary directory removed afterwards
 * unless KEEP_TEST_DIRS is set (to read the logs of a failing run).
 */

import { useApiKey } from '../../dev/cluster/http';
import {
  type ScratchCluster,
  type ScratchClusterOptions,
  startScratchCluster,
} from '../../dev/cluster/scratch-cluster';

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
