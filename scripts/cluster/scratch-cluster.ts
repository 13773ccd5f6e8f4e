/**
 * A throw-away cluster: etcd members and function host processes on free loopback ports, in a
 * temporary directory removed afterwards. The tests, the bench and the measurement scripts all
 * start theirs here. `stop()` stops every process it started (by pid, through ManagedProcess,
 * whose registry also kills them if the owner exits early).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEtcdClient, type EtcdClientOptions } from '../../coordination/etcd-client';
import { ADMIN_GRANT } from '../../functions/auth/api-key-record';
import { EtcdApiKeyStore } from '../../functions/auth/etcd-api-key-store';
import { issueApiKey } from '../../functions/auth/issue-api-key';
import { ensureEtcd } from './ensure-etcd';
import { EtcdCluster, type EtcdMemberSpec } from './etcd-cluster';
import { freePort } from './free-port';
import { HostFleet, type WaitUntil } from './host-fleet';

export interface ScratchClusterOptions {
  /** etcd members. Default 3. */
  members?: number;
  /** Function host processes. Default 0 (ledger-level users need none). */
  hosts?: number;
  /** Environment for every host (functions/config.ts). Default none. */
  hostEnv?: Record<string, string>;
  /** Environment for one host, given its index and every host's id and port (e.g. a clock offset). */
  hostEnvFor?: (index: number, hosts: { id: string; port: number }[]) => Record<string, string>;
  /** Extra node flags for the hosts, e.g. --cpu-prof. Default none. */
  hostNodeArgs?: string[];
  /** What each host must answer before the cluster counts as started. Default `ready`. */
  hostsUntil?: WaitUntil;
  /** Prefix of the temporary directory's name. Default `payments-`. */
  dirPrefix?: string;
  /** Keep the directory (logs, cpu profiles) instead of removing it. Default false. */
  keepDir?: boolean;
  /** How long the etcd members, then the hosts, may take to start, ms. Default 30000 each. */
  startTimeoutMs?: { etcd?: number; hosts?: number };
}

export interface ScratchCluster {
  etcd: EtcdCluster;
  fleet: HostFleet;
  dir: string;
  /** An API key acting for every account with the admin scope and no rate limit. */
  adminKey: string;
  /** API key records in this cluster's etcd, for tests that issue or revoke keys. */
  apiKeys: EtcdApiKeyStore;
  /** A fresh etcd client to all members; closed by stop(). */
  client(options?: Partial<EtcdClientOptions>): ReturnType<typeof createEtcdClient>;
  stop(): Promise<void>;
}

export async function startScratchCluster({
  members = 3,
  hosts = 0,
  hostEnv = {},
  hostEnvFor,
  hostNodeArgs = [],
  hostsUntil = 'ready',
  dirPrefix = 'payments-',
  keepDir = false,
  startTimeoutMs = {},
}: ScratchClusterOptions = {}): Promise<ScratchCluster> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
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
    nodeArgs: hostNodeArgs,
  });
  const clients: ReturnType<typeof createEtcdClient>[] = [];
  const stop = async () => {
    for (const c of clients) c.close();
    await fleet.stop();
    await etcd.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const client = (options: Partial<EtcdClientOptions> = {}) => {
    const c = createEtcdClient({ endpoints: etcd.clientUrls(), ...options });
    clients.push(c);
    return c;
  };
  const apiKeys = new EtcdApiKeyStore(client({ callDeadlineMs: 5000 }));
  let adminKey: string;
  try {
    await etcd.start(startTimeoutMs.etcd ?? 30_000);
    adminKey = (await issueApiKey(apiKeys, ADMIN_GRANT, new Date().toISOString())).key;
    await fleet.start(startTimeoutMs.hosts ?? 30_000, hostsUntil);
  } catch (error) {
    await stop();
    throw error;
  }
  return { etcd, fleet, dir, adminKey, apiKeys, client, stop };
}
