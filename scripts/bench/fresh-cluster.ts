/**
 * A throw-away cluster for one bench run: etcd members and function hosts on OS-chosen free
 * loopback ports, in a temporary directory removed afterwards. Every process is ours and is
 * stopped by pid (ManagedProcess), also if the bench dies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { ensureEtcd } from '../cluster/ensure-etcd';
import { EtcdCluster, type EtcdMemberSpec } from '../cluster/etcd-cluster';
import { HostFleet } from '../cluster/host-fleet';

export interface FreshClusterOptions {
  /** etcd members. Default 3. */
  members?: number;
  /** Function hosts. Default 3. */
  hosts?: number;
  /** Environment for every host (functions/config.ts), e.g. COMMIT_BATCH_MAX. */
  hostEnv?: Record<string, string>;
  /** Extra node flags for the hosts, e.g. --cpu-prof. Default none. */
  hostNodeArgs?: string[];
  /** Keep the directory (logs, cpu profiles) instead of removing it. Default false. */
  keepDir?: boolean;
}

export interface FreshCluster {
  etcd: EtcdCluster;
  fleet: HostFleet;
  dir: string;
  stop(): Promise<void>;
}

export async function startFreshCluster({
  members = 3,
  hosts = 3,
  hostEnv = {},
  hostNodeArgs = [],
  keepDir = false,
}: FreshClusterOptions = {}): Promise<FreshCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'payments-bench-'));
  const specs: EtcdMemberSpec[] = [];
  for (let i = 0; i < members; i++)
    specs.push({ name: `n${i + 1}`, clientPort: await getPort(), peerPort: await getPort() });
  const etcd = new EtcdCluster({ binary: ensureEtcd(), dir, members: specs });
  const hostSpecs = [];
  for (let i = 0; i < hosts; i++) hostSpecs.push({ id: `h${i + 1}`, port: await getPort() });
  const fleet = new HostFleet({
    hosts: hostSpecs,
    etcdEndpoints: etcd.clientUrls(),
    logDir: dir,
    env: hostEnv,
    nodeArgs: hostNodeArgs,
  });
  const stop = async () => {
    await fleet.stop();
    await etcd.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Generous: on a busy 2-core machine tsx may take a minute to compile a host.
    await etcd.start(120_000);
    await fleet.start(180_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { etcd, fleet, dir, stop };
}
