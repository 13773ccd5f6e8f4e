/**
 * For a test's child process (test/support/fenced-leader.ts, archiving-leader.ts): the etcd
 * client its environment describes (test/support/test-cluster.ts childEtcdEnv). Kept apart from
 * test-cluster.ts so a child loads only the etcd client.
 */
import { createEtcdClient } from '../../coordination/etcd/etcd-client';

export function etcdClientFromEnv(env: NodeJS.ProcessEnv): ReturnType<typeof createEtcdClient> {
  return createEtcdClient({
    endpoints: (env.ETCD_ENDPOINTS ?? '').split(','),
    tls: env.ETCD_CA_FILE
      ? { ca: env.ETCD_CA_FILE, cert: env.ETCD_CERT_FILE, key: env.ETCD_KEY_FILE }
      : undefined,
  });
}
