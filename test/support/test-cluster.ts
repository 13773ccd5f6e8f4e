/**
 * A real cluster for one test file: etcd members and function host processes on free loopback
 * ports, in a temporary directory that is removed afterwards. `stop()` stops every process it
 * started; the process registry also kills them if the test worker exits early.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { createEtcdClient, type EtcdClientOptions } from '../../coordination/etcd-client';
import { ensureEtcd } from '../../scripts/cluster/ensure-etcd';
import { EtcdCluster, type EtcdMemberSpec } from '../../scripts/cluster/etcd-cluster';
import { HostFleet, type WaitUntil } from '../../scripts/cluster/host-fleet';

export interface TestClusterOptions {
  /** etcd members. Default 3. */
  members?: number;
  /** Function host processes. Default 0 (ledger-level tests need none). */
  hosts?: number;
  /** Extra host environment (functions/config.ts). */
  hostEnv?: Record<string, string>;
  /** Environment for one host, given its index and every host's id and port (e.g. a clock offset). */
  hostEnvFor?: (index: number, hosts: { id: string; port: number }[]) => Record<string, string>;
  /** What each host must answer before the cluster counts as started. Default `ready`. */
  hostsUntil?: WaitUntil;
}

export interface TestCluster {
  etcd: EtcdCluster;
  fleet: HostFleet;
  dir: string;
  /** A fresh etcd client to all members; closed by stop(). */
  client(options?: Partial<EtcdClientOptions>): ReturnType<typeof createEtcdClient>;
  stop(): Promise<void>;
}

// Random candidates, not 20000 upwards in order: test files running in parallel (and a killed
// host's port, free until its restart) would otherwise be handed the same low ports.
const randomPorts = () => Array.from({ length: 64 }, () => 20_000 + Math.floor(Math.random() * 40_000));
const freePort = () => getPort({ port: randomPorts() });

export async function startTestCluster({
  members = 3,
  hosts = 0,
  hostEnv = {},
  hostEnvFor,
  hostsUntil = 'ready',
}: TestClusterOptions = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'payments-test-'));
  const specs: EtcdMemberSpec[] = [];
  for (let i = 0; i < members; i++)
    specs.push({ name: `n${i + 1}`, clientPort: await freePort(), peerPort: await freePort() });
  const etcd = new EtcdCluster({ binary: ensureEtcd(), dir, members: specs });
  const hostSpecs = [];
  for (let i = 0; i < hosts; i++) hostSpecs.push({ id: `h${i + 1}`, port: await freePort() });
  for (const [i, spec] of hostSpecs.entries()) Object.assign(spec, { env: hostEnvFor?.(i, hostSpecs) });
  const fleet = new HostFleet({
    hosts: hostSpecs,
    etcdEndpoints: etcd.clientUrls(),
    logDir: dir,
    env: hostEnv,
  });
  const clients: ReturnType<typeof createEtcdClient>[] = [];
  const stop = async () => {
    for (const c of clients) c.close();
    await fleet.stop();
    await etcd.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await etcd.start();
    await fleet.start(30_000, hostsUntil);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    etcd,
    fleet,
    dir,
    client: (options = {}) => {
      const c = createEtcdClient({ endpoints: etcd.clientUrls(), ...options });
      clients.push(c);
      return c;
    },
    stop,
  };
}
