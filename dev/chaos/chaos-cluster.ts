/**
 * The cluster a chaos run drives: three etcd members and N function hosts on free loopback
 * ports in a temporary directory, with a LinkProxy on every link the nemesis may cut:
 *
 *   member ⇄ member   each member advertises a proxy as its peer URL, so all Raft traffic to a
 *                     member passes its proxy, which knows the sender (X-Server-From);
 *   host → member     each host reaches each member through a proxy of its own.
 *
 * The harness itself talks to etcd directly, so its probes see through every partition.
 *
 * etcd runs secured, as everywhere: host links pass TLS through their proxies untouched (the
 * members' certificates name 127.0.0.1, which the proxies share); the peer proxies terminate TLS
 * to read the sender (link-proxy.ts).
 */
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { ADMIN_GRANT } from '../../functions/auth/api-key-record';
import { EtcdApiKeyStore } from '../../functions/auth/etcd-api-key-store';
import { issueApiKey } from '../../functions/auth/issue-api-key';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import { ensurePki, HOST_USER, readTlsFiles } from '../cluster/certificates';
import {
  EtcdCluster,
  type EtcdClusterOptions,
  type EtcdMember,
  type EtcdMemberSpec,
} from '../cluster/etcd-cluster';
import { freePort } from '../cluster/free-port';
import { type FunctionHost, HostFleet } from '../cluster/host-fleet';
import { httpOk, waitFor } from '../cluster/managed-process';
import { LinkProxy } from './link-proxy';

export interface ChaosClusterOptions {
  /** etcd binary (dev/cluster/ensure-etcd.ts). */
  etcdBinary: string;
  /** Directory for data and logs. */
  dir: string;
  /** Function hosts. Default 3. */
  hosts?: number;
  /** Extra host environment (functions/config.ts). */
  hostEnv?: Record<string, string>;
  /** Raft timing of the members (dev/cluster/etcd-cluster.ts). Default that file's. */
  etcdTiming?: Pick<EtcdClusterOptions, 'heartbeatMs' | 'electionTimeoutMs'>;
}

/** etcd3 gives uint64 member ids in decimal; rafthttp headers use hex. */
const toHex = (decimal: string) => BigInt(decimal).toString(16);

export class ChaosCluster {
  private readonly memberIds = new Map<string, string>();
  /** API key for every account with the admin scope, issued once etcd is up. */
  adminKey = '';
  /** One client per member, straight to it (not through a proxy), for status probes. */
  private readonly probes = new Map<string, Etcd3>();

  private constructor(
    readonly etcd: EtcdCluster,
    readonly hosts: FunctionHost[],
    private readonly fleets: HostFleet[],
    /** Proxy in front of each member's peer port, by member name. */
    readonly peerProxies: Map<string, LinkProxy>,
    /** Each host's proxies to the members, by host id. */
    readonly clientProxies: Map<string, LinkProxy[]>,
  ) {}

  static async start({
    etcdBinary,
    dir,
    hosts = 3,
    hostEnv = {},
    etcdTiming = {},
  }: ChaosClusterOptions): Promise<ChaosCluster> {
    const specs: EtcdMemberSpec[] = [];
    for (let i = 1; i <= 3; i++) {
      specs.push({
        name: `n${i}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        advertisedPeerPort: await freePort(),
        metricsPort: await freePort(),
      });
    }
    const pki = await ensurePki({ dir: join(dir, 'pki'), members: specs.map((s) => s.name) });
    // Peer ports trust only the peer CA (dev/cluster/certificates.ts): the proxy speaks on peer links.
    const proxyIdentity = await pki.issuePeer('link-proxy');
    const peerProxies = new Map(
      specs.map((s) => [
        s.name,
        new LinkProxy({
          name: `peer ${s.name}`,
          listenPort: s.advertisedPeerPort!,
          targetPort: s.peerPort,
          identifySender: true,
          tls: {
            server: readTlsFiles(pki.memberPeer(s.name)),
            client: readTlsFiles(proxyIdentity),
          },
        }),
      ]),
    );
    const clientProxies = new Map<string, LinkProxy[]>();
    const fleets: HostFleet[] = [];
    for (let i = 1; i <= hosts; i++) {
      const id = `h${i}`;
      const proxies: LinkProxy[] = [];
      for (const s of specs) {
        proxies.push(
          new LinkProxy({ name: `${id}->${s.name}`, listenPort: await freePort(), targetPort: s.clientPort }),
        );
      }
      clientProxies.set(id, proxies);
      fleets.push(
        new HostFleet({
          hosts: [{ id, port: await freePort() }],
          etcdEndpoints: proxies.map((p) => `https://127.0.0.1:${p.port}`),
          logDir: dir,
          env: hostEnv,
          etcdTls: pki.user(HOST_USER),
        }),
      );
    }
    const etcd = new EtcdCluster({
      ...etcdTiming,
      binary: etcdBinary,
      dir,
      members: specs,
      pki,
      // The hosts' role covers the root they use.
      ledgerRoot: hostEnv.LEDGER_ROOT ?? DEFAULT_ROOT,
    });
    const cluster = new ChaosCluster(
      etcd,
      fleets.flatMap((f) => f.hosts),
      fleets,
      peerProxies,
      clientProxies,
    );
    for (const p of [...peerProxies.values(), ...[...clientProxies.values()].flat()]) await p.listen();
    await etcd.start(60_000);
    for (const m of etcd.members) {
      cluster.probes.set(
        m.name,
        createEtcdClient({
          endpoints: [m.clientUrl],
          attempts: 1,
          callDeadlineMs: 1000,
          dialTimeoutMs: 1000,
          tls: etcd.credentials(),
        }),
      );
    }
    const client = createEtcdClient({
      endpoints: etcd.clientUrls(),
      callDeadlineMs: 5000,
      tls: etcd.credentials(),
    });
    try {
      cluster.adminKey = (
        await issueApiKey(new EtcdApiKeyStore(client), ADMIN_GRANT, new Date().toISOString())
      ).key;
    } finally {
      client.close();
    }
    await Promise.all(fleets.map((f) => f.start(60_000)));
    await cluster.learnMemberIds();
    return cluster;
  }

  private async learnMemberIds(): Promise<void> {
    for (const m of this.etcd.members) {
      const status = await this.memberStatus(m);
      if (!status?.header?.member_id) throw new Error(`cannot read the member id of ${m.name}`);
      this.memberIds.set(m.name, toHex(status.header.member_id));
    }
  }

  /** The Raft leader as the running members (but `exclude`) report it, or undefined while there is none. */
  async leader(exclude?: string): Promise<EtcdMember | undefined> {
    for (const m of this.etcd.members.filter((x) => x.process.running && x.name !== exclude)) {
      const status = await this.memberStatus(m);
      if (!status?.leader || status.leader === '0') continue;
      const hex = toHex(status.leader);
      const name = [...this.memberIds].find(([, id]) => id === hex)?.[0];
      if (name) return this.etcd.member(name);
    }
    return undefined;
  }

  /** Cuts every Raft link between `name` and the other members, both ways. */
  isolateMember(name: string): void {
    const id = this.memberIds.get(name);
    for (const [member, proxy] of this.peerProxies) {
      if (member === name) proxy.cut();
      else proxy.cut((sender) => sender === id);
    }
  }

  /** Cuts one host off from every etcd member; clients still reach the host. */
  cutHost(hostId: string): void {
    for (const p of this.clientProxies.get(hostId) ?? []) p.cut();
  }

  healNetwork(): void {
    for (const p of [...this.peerProxies.values(), ...[...this.clientProxies.values()].flat()]) p.heal();
  }

  host(id: string): FunctionHost {
    const h = this.hosts.find((x) => x.id === id);
    if (!h) throw new Error(`no host ${id}`);
    return h;
  }

  async restartHost(id: string, timeoutMs = 60_000): Promise<void> {
    const fleet = this.fleets.find((f) => f.hosts.some((h) => h.id === id));
    await fleet?.restart(id, timeoutMs);
  }

  /** True when every member answers healthy and every host answers /ready. */
  async healthy(): Promise<boolean> {
    const members = await Promise.all(this.etcd.members.map((m) => m.process.running && m.healthy()));
    if (!members.every(Boolean)) return false;
    const hosts = await Promise.all(this.hosts.map((h) => httpOk(`${h.url}/ready`, 2000).catch(() => false)));
    return hosts.every(Boolean);
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    await waitFor('the whole cluster healthy', () => this.healthy(), timeoutMs);
  }

  /** The member's status as it reports it, or undefined when it does not answer within 1 s. */
  private async memberStatus(
    m: EtcdMember,
  ): Promise<{ header?: { member_id?: string }; leader?: string } | undefined> {
    const probe = this.probes.get(m.name);
    if (!probe) return undefined;
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref());
    return Promise.race([probe.maintenance.status().catch(() => undefined), timeout]);
  }

  async stop(): Promise<void> {
    for (const h of this.hosts) h.process.resume();
    for (const m of this.etcd.members) m.process.resume();
    await Promise.all(this.fleets.map((f) => f.stop()));
    for (const c of this.probes.values()) c.close();
    await this.etcd.stop();
    for (const p of [...this.peerProxies.values(), ...[...this.clientProxies.values()].flat()])
      await p.close();
  }
}
