/**
 * A local etcd cluster of real members on loopback, for `npm start` and for the tests.
 *
 * Timing is tuned for loopback: a 100 ms heartbeat and a 1 s election timeout detect a dead Raft
 * leader in about a second, and still tolerate a busy 2-core machine without spurious elections
 * (etcd's guidance: election timeout ≥ 10 × heartbeat). --max-txn-ops is raised so that one
 * transaction can carry a batch of payments.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createEtcdClient } from '../../coordination/etcd-client';
import { httpOk, ManagedProcess, waitFor } from './managed-process';

export interface EtcdMemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  /**
   * Peer port the other members are told to dial, when it differs from the one listened on:
   * the chaos harness puts a proxy there (scripts/chaos/link-proxy.ts). Default `peerPort`.
   */
  advertisedPeerPort?: number;
}

export interface EtcdClusterOptions {
  /** Path of the etcd binary (see ensure-etcd.ts). */
  binary: string;
  /** Directory for member data (<dir>/<name>) and logs (<dir>/<name>.log). */
  dir: string;
  members: EtcdMemberSpec[];
  /** Address to bind. Default 127.0.0.1. */
  bind?: string;
  /** Raft heartbeat, ms. Default 100. */
  heartbeatMs?: number;
  /** Raft election timeout, ms. Default 1000. */
  electionTimeoutMs?: number;
  /** Most operations in one transaction. Default 2048 (etcd's own default is 128). */
  maxTxnOps?: number;
  /** Cluster token, so members of different clusters never join each other. Default derived from ports. */
  token?: string;
}

/** The default member layout: client ports 2379, 22379, 32379, …; peer port = client port + 1. */
export function defaultMembers(count: number, firstClientPort = 2379): EtcdMemberSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const clientPort = i === 0 ? firstClientPort : (i + 1) * 10_000 + firstClientPort;
    return { name: `n${i + 1}`, clientPort, peerPort: clientPort + 1 };
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
  ) {
    this.process = process;
  }

  get name(): string {
    return this.spec.name;
  }

  /** True when the member answers /health with a leader in sight. */
  healthy(): Promise<boolean> {
    return httpOk(`${this.clientUrl}/health`).catch(() => false);
  }
}

export class EtcdCluster {
  readonly members: EtcdMember[];

  constructor(private readonly options: EtcdClusterOptions) {
    const { dir, members } = options;
    const initialCluster = members.map((m) => `${m.name}=${this.advertisedPeerUrl(m)}`).join(',');
    mkdirSync(dir, { recursive: true });
    this.members = members.map((spec) => this.createMember(spec, initialCluster, 'new'));
  }

  private peerUrl(spec: EtcdMemberSpec): string {
    return `http://${this.options.bind ?? '127.0.0.1'}:${spec.peerPort}`;
  }

  private advertisedPeerUrl(spec: EtcdMemberSpec): string {
    return `http://${this.options.bind ?? '127.0.0.1'}:${spec.advertisedPeerPort ?? spec.peerPort}`;
  }

  /** A member's process, joining a `new` cluster or an `existing` one (after a runtime member add). */
  private createMember(spec: EtcdMemberSpec, initialCluster: string, state: 'new' | 'existing'): EtcdMember {
    const {
      binary,
      dir,
      members,
      bind = '127.0.0.1',
      heartbeatMs = 100,
      electionTimeoutMs = 1000,
      maxTxnOps = 2048,
      token = `payments-${members.map((m) => m.clientPort).join('-')}`,
    } = this.options;
    const clientUrl = `http://${bind}:${spec.clientPort}`;
    const dataDir = join(dir, spec.name);
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
      ['--logger', 'zap'],
      ['--log-level', 'warn'],
    ].flat();
    const process = new ManagedProcess({
      name: `etcd ${spec.name}`,
      command: binary,
      args,
      logFile: join(dir, `${spec.name}.log`),
    });
    return new EtcdMember(spec, clientUrl, this.advertisedPeerUrl(spec), dataDir, process);
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
    const client = createEtcdClient({ endpoints: survivors, breakerCooldownMs: 200, callDeadlineMs: 5000 });
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

  /** Starts every member and waits until all report healthy. */
  async start(timeoutMs = 30_000): Promise<void> {
    for (const m of this.members) m.process.start();
    await Promise.all(this.members.map((m) => waitFor(`${m.name} healthy`, () => m.healthy(), timeoutMs)));
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
