/**
 * A real cluster for one test file (scripts/cluster/scratch-cluster.ts): real etcd members and
 * function host processes on free loopback ports, in a temporary directory removed afterwards
 * unless KEEP_TEST_DIRS is set (to read the logs of a failing run).
 */
import {
  type ScratchCluster,
  type ScratchClusterOptions,
  startScratchCluster,
} from '../../scripts/cluster/scratch-cluster';

export type TestClusterOptions = Omit<ScratchClusterOptions, 'dirPrefix' | 'keepDir'>;
export type TestCluster = ScratchCluster;

export function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  return startScratchCluster({
    ...options,
    dirPrefix: 'payments-test-',
    keepDir: Boolean(process.env.KEEP_TEST_DIRS),
  });
}
