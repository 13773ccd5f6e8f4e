/**
 * A local etcd cluster of real members on loopback, for `npm start` and for the tests.
 *
 * Timing is tuned for loopback: a 50 ms heartbeat and a 500 ms election timeout (etcd's guidance:
 * election timeout ≥ 10 × heartbeat). Issue 15's target for an isolated Raft leader is the next
 * commit within election timeout + 1 s; Raft draws each follower's timeout from [T, 2T), so the
 * election alone took 2.1–3.3 s at T = 1000 and missed it, and 0.9–1.8 s at T = 500
 * (docs/fault-tolerance.md, "Election timeout", with the cost: more spurious elections on a
 * loaded machine). --max-txn-ops is raised so that one
 * transaction can carry a batch of payments. --pre-vote (off by default in etcd 3.4, on in 3.5):
 * a member cut off from its peers keeps raising its term; without pre-vote, on rejoining it
 * forces the healthy cluster into a new election and commits stall again after the heal.
 * --backend-batch-limit is lowered so that etcd 3.4's read buffer stays small (see
 * DEFAULT_BACKEND_BATCH_LIMIT).
 *
 * Secured (`pki` given, the default of `npm start` and scratch clusters): TLS with client
 * certificate authentication on the client and peer ports (peer ports trust only the peer CA,
 * certificates.ts), and, after the first start, etcd's
 * RBAC with a host role confined to the ledger root (etcd-auth.ts). Health is then read from a
 * plain-http metrics listener on loopback (/health only, no keys), so that probes need no
 * credentials.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createEtcdClient, type EtcdTlsCredentials } from '../../coordination/etcd/etcd-client';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import { type Pki, ROOT_USER } from './certificates';
import { bootstrapEtcdAuth } from './etcd-auth';
import { httpOk, ManagedProcess, waitFor } from './managed-process';

/** Raft election timeout of local clusters, ms (see the header). */
export const DEFAULT_ELECTION_TIMEOUT_MS = 500;
/** Raft heartbeat of local clusters, ms: a tenth of the election timeout. */
export const DEFAULT_HEARTBEAT_MS = 50;

/** 8 GiB: etcd's recommended maximum backend size. */
export const DEFAULT_ETCD_QUOTA_BYTES = 8 * 1024 ** 3;
/**
 * Writes etcd buffers before it commits them to bbolt (--backend-batch-limit; etcd's own default
 * is 10 000, or every 100 ms, whichever comes first). Why lower: etcd up to 3.4.23 (Debian's)
 * copies its read buffer for every read and every transaction's compare
 * (backend.ConcurrentReadTx), and copies the buffer's whole capacity, not the entries in use
 * (mvcc/backend/tx_buffer.go, bucketBuffer.Copy); the capacity grows to the most writes ever
 * pending between two commits, and stays while writes keep coming. A burst of 30 000 writes in
 * 120-op transactions left every later transaction at about twice its CPU; committing every
 * 1 000 writes keeps the buffer near 1 000 plus the largest transaction (npm run
 * bench:read-buffer; docs/performance.md, "Fourth pass"). One transaction still grows it to its
 * own size: keep them small. etcd 3.5, and 3.4.24 on, share one copy between reads instead
 * (etcd PRs 12933 and 15195).
 */
export const DEFAULT_BACKEND_BATCH_LIMIT = 1000;

export interface EtcdMemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  /**
   * Peer port the other members are told to dial, when it differs from the one listened on:
   * the chaos harness puts a proxy there (dev/chaos/link-proxy.ts). Default `peerPort`.
   */
  advertisedPeerPort?: number;
  /**
   * Port of a plain-http listener on loopback serving /health and /metrics. Required when the
   * cluster is secured (its client port then wants a client certificate). Default none.
   */
  metricsPort?: number;
}

export interface EtcdClusterOptions {
  /** Path of the etcd binary (see ensure-etcd.ts). */
  binary: string;
  /** Directory for member data (<dir>/<name>) and logs (<dir>/<name>.log). */
  dir: string;
  members: EtcdMemberSpec[];
  /** Address to bind. Default 127.0.0.1. */
  bind?: string;
  /** Raft heartbeat, ms. Default DEFAULT_HEARTBEAT_MS (50). */
  heartbeatMs?: number;
  /** Raft election timeout, ms. Default DEFAULT_ELECTION_TIMEOUT_MS (500). */
  electionTimeoutMs?: number;
  /** Most operations in one transaction. Default 2048 (etcd's own default is 128). */
  maxTxnOps?: number;
  /**
   * Backend quota, bytes (--quota-backend-bytes): past it etcd raises NOSPACE. Default
   * DEFAULT_ETCD_QUOTA_BYTES, 8 GiB, the most etcd's documentation recommends (etcd's own default
   * is 2 GiB). Set explicitly, so that the hosts can watch it (issue 14).
   */
  quotaBytes?: number;
  /** Writes buffered before a bbolt commit (--backend-batch-limit). Default DEFAULT_BACKEND_BATCH_LIMIT (1 000). */
  backendBatchLimit?: number;
  /**
   * Longest wait before a bbolt commit, ms (--backend-batch-interval). Default etcd's own (100).
   * Tests raise it so that only the batch limit commits.
   */
  backendBatchIntervalMs?: number;
  /** Cluster token, so members of different clusters never join each other. Default derived from ports. */
  token?: string;
  /**
   * Certificates (certificates.ts): TLS with client-certificate auth on client and peer ports,
   * and RBAC enabled at start. Default none: plain http, no auth (for debugging).
   */
  pki?: Pki;
  /** Ledger key root the host role may read and write. Default DEFAULT_ROOT (ledger/etcd/key-layout.ts). */
  ledgerRoot?: string;
}

/**
 * The default member layout: client ports 2379, 22379, 32379, …; peer port = client port + 1;
 * metrics (health) port = client port + 2.
 */
export function defaultMembers(count: number, firstClientPort = 2379): EtcdMemberSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const clientPort = i === 0 ? firstClientPort : (i + 1) * 10_000 + firstClientPort;
    return { name: `n${i + 1}`, clientPort, peerPort: clientPort + 1, metricsPort: clientPort + 2 };
  });
}

export class EtcdMember {
  readonly process: ManagedProcess;
  constructor(
    readonly spec: EtcdMemberSpec,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly dataDir: string,
    process: ManagedProcess,
    /** Where /health is asked: the metrics listener when there is one, else the client URL. */
    private readonly healthUrl: string,
  ) {
    this.process = process;
  }

  get name(): string {
    return this.spec.name;
  }

  /** True when the member answers /health with a leader in sight. */
  healthy(): Promise<boolean> {
    return httpOk(this.healthUrl).catch(() => false);
  }
}

export class EtcdCluster {
  readonly members: EtcdMember[];

  constructor(private readonly options: EtcdClusterOptions) {
    const { dir, members, pki } = options;
    const blind = members.find((m) => m.metricsPort === undefined);
    if (pki && blind) throw new Error(`a secured etcd member needs a metricsPort for health (${blind.name})`);
    const initialCluster = members.map((m) => `${m.name}=${this.advertisedPeerUrl(m)}`).join(',');
    mkdirSync(dir, { recursive: true });
    this.members = members.map((spec) => this.createMember(spec, initialCluster, 'new'));
  }

  /** True when TLS, client-certificate auth and RBAC are on. */
  get secured(): boolean {
    return this.options.pki !== undefined;
  }

  /** Certificates of a secured cluster. */
  get pki(): Pki | undefined {
    return this.options.pki;
  }

  private get scheme(): string {
    return this.secured ? 'https' : 'http';
  }

  private peerUrl(spec: EtcdMemberSpec): string {
    return `${this.scheme}://${this.options.bind ?? '127.0.0.1'}:${spec.peerPort}`;
  }

  private advertisedPeerUrl(spec: EtcdMemberSpec): string {
    return `${this.scheme}://${this.options.bind ?? '127.0.0.1'}:${spec.advertisedPeerPort ?? spec.peerPort}`;
  }

  /** Client credentials of an etcd user (CN = user), or undefined when the cluster is not secured. */
  credentials(user: string = ROOT_USER): EtcdTlsCredentials | undefined {
    const pki = this.options.pki;
    if (!pki) return undefined;
    const files = pki.user(user);
    return { ca: files.caFile, cert: files.certFile, key: files.keyFile };
  }

  /** A member's process, joining a `new` cluster or an `existing` one (after a runtime member add). */
  private createMember(spec: EtcdMemberSpec, initialCluster: string, state: 'new' | 'existing'): EtcdMember {
    const {
      binary,
      dir,
      members,
      bind = '127.0.0.1',
      heartbeatMs = DEFAULT_HEARTBEAT_MS,
      electionTimeoutMs = DEFAULT_ELECTION_TIMEOUT_MS,
      maxTxnOps = 2048,
      quotaBytes = DEFAULT_ETCD_QUOTA_BYTES,
      backendBatchLimit = DEFAULT_BACKEND_BATCH_LIMIT,
      backendBatchIntervalMs,
      token = `payments-${members.map((m) => m.clientPort).join('-')}`,
    } = this.options;
    const clientUrl = `${this.scheme}://${bind}:${spec.clientPort}`;
    const dataDir = join(dir, spec.name);
    const metricsUrl = spec.metricsPort === undefined ? undefined : `http://${bind}:${spec.metricsPort}`;
    const pki = this.options.pki;
    const own = pki?.member(spec.name);
    const peer = pki?.memberPeer(spec.name);
    const args = [
      ['--name', spec.name],
      ['--data-dir', dataDir],
      ['--listen-client-urls', clientUrl],
      ['--advertise-client-urls', clientUrl],
      ['--listen-peer-urls', this.peerUrl(spec)],
      ['--initial-advertise-peer-urls', this.advertisedPeerUrl(spec)],
      ['--initial-cluster', initialCluster],
      ['--initial-cluster-token', token],
      ['--initial-cluster-state', state],
      ['--heartbeat-interval', String(heartbeatMs)],
      ['--election-timeout', String(electionTimeoutMs)],
      ['--max-txn-ops', String(maxTxnOps)],
      ['--quota-backend-bytes', String(quotaBytes)],
      ['--pre-vote'],
      ['--backend-batch-limit', String(backendBatchLimit)],
      // etcd parses it as a Go duration.
      backendBatchIntervalMs === undefined ? [] : ['--backend-batch-interval', `${backendBatchIntervalMs}ms`],
      ['--logger', 'zap'],
      ['--log-level', 'warn'],
      metricsUrl ? ['--listen-metrics-urls', metricsUrl] : [],
      own && peer
        ? [
            ['--cert-file', own.certFile],
            ['--key-file', own.keyFile],
            ['--trusted-ca-file', own.caFile],
            ['--client-cert-auth'],
            // The peer CA signs member certificates only: a client or host certificate is
            // refused on peer ports (issue 17 §5).
            ['--peer-cert-file', peer.certFile],
            ['--peer-key-file', peer.keyFile],
            ['--peer-trusted-ca-file', peer.caFile],
            ['--peer-client-cert-auth'],
          ].flat()
        : [],
    ].flat();
    const process = new ManagedProcess({
      name: `etcd ${spec.name}`,
      command: binary,
      args,
      logFile: join(dir, `${spec.name}.log`),
    });
    const healthUrl = `${metricsUrl ?? clientUrl}/health`;
    return new EtcdMember(spec, clientUrl, this.advertisedPeerUrl(spec), dataDir, process, healthUrl);
  }

  /**
   * Replaces a member whose data directory is lost, by etcd's runtime reconfiguration: stop it if
   * it still runs, delete its data directory, `member remove` its old identity and `member add` it
   * afresh through the surviving members (which must hold a quorum), then start it with
   * `--initial-cluster-state existing`, so it joins empty and receives a snapshot from the leader.
   * The member keeps its name and URLs. Returns the new member, which takes the old one's place in
   * `members` (references to the old EtcdMember are stale afterwards).
   */
  async replaceMember(
    name: string,
    { timeoutMs = 30_000, log = () => {} }: { timeoutMs?: number; log?: (line: string) => void } = {},
  ): Promise<EtcdMember> {
    const old = this.member(name);
    await old.process.kill();
    rmSync(old.dataDir, { recursive: true, force: true });
    const survivors = this.members.filter((m) => m !== old).map((m) => m.clientUrl);
    const client = createEtcdClient({
      endpoints: survivors,
      breakerCooldownMs: 200,
      callDeadlineMs: 5000,
      tls: this.credentials(ROOT_USER),
    });
    try {
      const initialCluster = await retryReconfiguration(timeoutMs, log, async () => {
        // Idempotent, so that a retry after an unanswered call cannot add the member twice.
        const { members } = await client.cluster.memberList({});
        const existing = members.find((m) => m.peerURLs.includes(old.peerUrl));
        if (existing?.name) {
          log(`member remove ${name} (id ${existing.ID})`);
          await client.cluster.memberRemove({ ID: existing.ID });
          return undefined; // list again
        }
        if (!existing) {
          log(`member add ${name} ${old.peerUrl}`);
          await client.cluster.memberAdd({ peerURLs: [old.peerUrl] });
          return undefined;
        }
        // Added and not started yet (no name): the cluster expects exactly this member.
        return members.map((m) => `${m.ID === existing.ID ? name : m.name}=${m.peerURLs[0]}`).join(',');
      });
      const fresh = this.createMember(old.spec, initialCluster, 'existing');
      this.members[this.members.indexOf(old)] = fresh;
      log(`starting ${name} with --initial-cluster-state existing (${initialCluster})`);
      fresh.process.start();
      await waitFor(`${name} healthy`, () => fresh.healthy(), timeoutMs);
      return fresh;
    } finally {
      client.close();
    }
  }

  clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  member(name: string): EtcdMember {
    const member = this.members.find((m) => m.name === name);
    if (!member) throw new Error(`no etcd member named ${name}`);
    return member;
  }

  /**
   * Starts every member and waits until all report healthy; a secured cluster then gets its users
   * and roles (idempotent: a restarted cluster already has them).
   */
  async start(timeoutMs = 30_000): Promise<void> {
    for (const m of this.members) m.process.start();
    await Promise.all(this.members.map((m) => waitFor(`${m.name} healthy`, () => m.healthy(), timeoutMs)));
    if (!this.secured) return;
    const client = createEtcdClient({
      endpoints: this.clientUrls(),
      callDeadlineMs: 5000,
      tls: this.credentials(ROOT_USER),
    });
    try {
      await bootstrapEtcdAuth({ client, ledgerRoot: this.options.ledgerRoot ?? DEFAULT_ROOT });
    } finally {
      client.close();
    }
  }

  /** Restarts one stopped member with its data directory, and waits until it is healthy. */
  async restartMember(name: string, timeoutMs = 30_000): Promise<void> {
    const member = this.member(name);
    member.process.start();
    await waitFor(`${name} healthy`, () => member.healthy(), timeoutMs);
  }

  /** Waits until every running member reports healthy (a leader is elected and known). */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const running = this.members.filter((m) => m.process.running);
    await Promise.all(running.map((m) => waitFor(`${m.name} healthy`, () => m.healthy(), timeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.process.stop()));
  }

  get dir(): string {
    return this.options.dir;
  }
}

/**
 * Runs one step of a reconfiguration until it returns a result. etcd's strict reconfiguration
 * check refuses `member add/remove` ("unhealthy cluster") until the remaining members have been
 * connected to each other for 5 s, e.g. just after a restart; a busy member may also miss a
 * deadline. Both are retried within `timeoutMs`.
 */
async function retryReconfiguration<T>(
  timeoutMs: number,
  log: (line: string) => void,
  step: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = await step();
      if (result !== undefined) return result;
      continue;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log(`etcd refused or did not answer (${(error as Error).message}); retrying`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
