/**
 * A throw-away cluster: etcd members and function host processes on free loopback ports, in a
 * temporary directory removed afterwards. The tests, the bench and the measurement scripts all
 * start theirs here. `stop()` stops every process it started (by pid, through ManagedProcess,
 * whose registry also kills them if the owner exits early).
 *
 * Secured by default, like `npm start`: TLS, client certificates and RBAC (etcd-cluster.ts), with
 * the certificates under <dir>/pki; the hosts authenticate as payments-host, and `client()` as
 * root unless told otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEtcdClient, type EtcdClientOptions } from '../../coordination/etcd/etcd-client';
import { ADMIN_GRANT } from '../../functions/auth/api-key-record';
import { EtcdApiKeyStore } from '../../functions/auth/etcd-api-key-store';
import { issueApiKey } from '../../functions/auth/issue-api-key';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import { ensurePki, HOST_USER, type Pki, ROOT_USER } from './certificates';
import { ensureEtcd } from './ensure-etcd';
import { DEFAULT_ETCD_QUOTA_BYTES, EtcdCluster, type EtcdMemberSpec } from './etcd-cluster';
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
  /** TLS, client-certificate auth and RBAC on etcd. Default true. */
  secure?: boolean;
  /** etcd's backend quota, bytes. Default DEFAULT_ETCD_QUOTA_BYTES (etcd-cluster.ts, 8 GiB). */
  etcdQuotaBytes?: number;
  /** etcd's --backend-batch-limit. Default DEFAULT_BACKEND_BATCH_LIMIT (etcd-cluster.ts, 1 000). */
  etcdBackendBatchLimit?: number;
  /** etcd's --backend-batch-interval, ms. Default etcd's own (100). */
  etcdBackendBatchIntervalMs?: number;
}

export interface ScratchClientOptions extends Partial<EtcdClientOptions> {
  /** etcd user the client authenticates as, by its certificate (secured clusters). Default root. */
  as?: string;
}

export interface ScratchCluster {
  etcd: EtcdCluster;
  fleet: HostFleet;
  dir: string;
  /** An API key acting for every account with the admin scope and no rate limit. */
  adminKey: string;
  /** API key records in this cluster's etcd, for tests that issue or revoke keys. */
  apiKeys: EtcdApiKeyStore;
  /** Certificates of a secured cluster (`pki.issueUser` makes more client identities). */
  pki: Pki | undefined;
  /** The key root the hosts' role may use: LEDGER_ROOT of hostEnv, else DEFAULT_ROOT. */
  ledgerRoot: string;
  /**
   * A fresh etcd client to all members, closed by stop(); authenticated as `as` (default root,
   * which may use any key root) when the cluster is secured.
   */
  client(options?: ScratchClientOptions): ReturnType<typeof createEtcdClient>;
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
  secure = true,
  etcdQuotaBytes = DEFAULT_ETCD_QUOTA_BYTES,
  etcdBackendBatchLimit,
  etcdBackendBatchIntervalMs,
}: ScratchClusterOptions = {}): Promise<ScratchCluster> {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const specs: EtcdMemberSpec[] = [];
  for (let i = 0; i < members; i++) {
    const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    specs.push({ name: `n${i + 1}`, clientPort, peerPort, metricsPort });
  }
  const pki = secure
    ? await ensurePki({ dir: join(dir, 'pki'), members: specs.map((s) => s.name) })
    : undefined;
  const ledgerRoot = hostEnv.LEDGER_ROOT ?? DEFAULT_ROOT;
  const etcd = new EtcdCluster({
    binary: ensureEtcd(),
    dir,
    members: specs,
    pki,
    ledgerRoot,
    quotaBytes: etcdQuotaBytes,
    backendBatchLimit: etcdBackendBatchLimit,
    backendBatchIntervalMs: etcdBackendBatchIntervalMs,
  });
  const hostSpecs = [];
  for (let i = 0; i < hosts; i++) hostSpecs.push({ id: `h${i + 1}`, port: await freePort() });
  for (const [i, spec] of hostSpecs.entries()) Object.assign(spec, { env: hostEnvFor?.(i, hostSpecs) });
  const fleet = new HostFleet({
    hosts: hostSpecs,
    etcdEndpoints: etcd.clientUrls(),
    logDir: dir,
    // The hosts' quota guard is told what etcd was given, unless the test says otherwise.
    env: { ETCD_QUOTA_BYTES: String(etcdQuotaBytes), ...hostEnv },
    nodeArgs: hostNodeArgs,
    etcdTls: pki?.user(HOST_USER),
  });
  const clients: ReturnType<typeof createEtcdClient>[] = [];
  const stop = async () => {
    for (const c of clients) c.close();
    await fleet.stop();
    await etcd.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const client = ({ as = ROOT_USER, ...options }: ScratchClientOptions = {}) => {
    const c = createEtcdClient({ endpoints: etcd.clientUrls(), tls: etcd.credentials(as), ...options });
    clients.push(c);
    return c;
  };
  const apiKeys = new EtcdApiKeyStore(client({ callDeadlineMs: 5000 }), { root: ledgerRoot });
  let adminKey: string;
  try {
    await etcd.start(startTimeoutMs.etcd ?? 30_000);
    adminKey = (await issueApiKey(apiKeys, ADMIN_GRANT, new Date().toISOString())).key;
    await fleet.start(startTimeoutMs.hosts ?? 30_000, hostsUntil);
  } catch (error) {
    await stop();
    throw error;
  }
  return { etcd, fleet, dir, adminKey, apiKeys, pki, ledgerRoot, client, stop };
}
