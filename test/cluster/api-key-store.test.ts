/** Both API key stores against one contract (test/contracts/api-key-store-contract.ts); the etcd one on a real member. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { EtcdApiKeyStore } from '../../functions/auth/etcd-api-key-store';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { apiKeyStoreContract } from '../contracts/api-key-store-contract';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({ members: 1 });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

apiKeyStoreContract('memory', () => new MemoryApiKeyStore());
// A fresh root per test, so that listings see only that test's keys.
apiKeyStoreContract('etcd', () => new EtcdApiKeyStore(cluster.client(), { root: `/test/${randomUUID()}` }));
