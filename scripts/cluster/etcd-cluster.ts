/**
 * A local etcd cluster of real members on loopback, for `npm start` and for the tests.
 *
 * Timing is tuned for loopback: a 100 ms heartbeat and a 1 s election timeout detect a dead Raft
 * leader in about a second, and still tolerate a busy 2-core machine without spurious elections
 * (etcd's guidance: election timeout ≥ 10 × heartbeat). --max-txn-ops is raised so that one
 * transaction can carry a batch of payments.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
    const {
      binary,
      dir,
      members,
      bind = '127.0.0.1',
      heartbeatMs = 100,
      electionTimeoutMs = 1000,
      maxTxnOps = 2048,
      token = `payments-${members.map((m) => m.clientPort).join('-')}`,
    } = options;
    const peerUrl = (m: EtcdMemberSpec) => `http://${bind}:${m.peerPort}`;
    const advertisedPeerUrl = (m: EtcdMemberSpec) => `http://${bind}:${m.advertisedPeerPort ?? m.peerPort}`;
    const initialCluster = members.map((m) => `${m.name}=${advertisedPeerUrl(m)}`).join(',');
    mkdirSync(dir, { recursive: true });
    this.members = members.map((spec) => {
      const clientUrl = `http://${bind}:${spec.clientPort}`;
      const dataDir = join(dir, spec.name);
      const args = [
        ['--name', spec.name],
        ['--data-dir', dataDir],
        ['--listen-client-urls', clientUrl],
        ['--advertise-client-urls', clientUrl],
        ['--listen-peer-urls', peerUrl(spec)],
        ['--initial-advertise-peer-urls', advertisedPeerUrl(spec)],
        ['--initial-cluster', initialCluster],
        ['--initial-cluster-token', token],
        ['--initial-cluster-state', 'new'],
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
      return new EtcdMember(spec, clientUrl, peerUrl(spec), dataDir, process);
    });
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
