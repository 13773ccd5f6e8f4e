/**
 * Function hosts inside this process, each with its own skewed clock, served over real HTTP on
 * loopback ports and joined by a StaticClusterView the caller controls (kill a host, move the
 * leadership). The clock tests and dev/measure-clock-sync.ts use it: in one process every
 * host's clock can be read at the same instant and compared with true time (machineTime).
 */
import { type ServerType, serve } from '@hono/node-server';
import getPort from 'get-port';
import { machineTime } from '../../coordination/clock/clock';
import {
  createHostClocks,
  type HostClocks,
  type HostClocksOptions,
} from '../../coordination/clock-sync/host-clocks';
import { HttpTimePeer } from '../../coordination/clock-sync/time-peer';
import type { HostInfo } from '../../coordination/cluster/cluster-view';
import { StaticClusterView } from '../../coordination/cluster/static-cluster-view';
import type { EventStore } from '../../coordination/events/event-store';
import { createApp } from '../../functions/app';
import { ADMIN_GRANT } from '../../functions/auth/api-key-record';
import { issueHostKey } from '../../functions/auth/host-key';
import { issueApiKey } from '../../functions/auth/issue-api-key';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import type { PaymentLedger } from '../../ledger/ledger';

export interface InProcessHostSpec {
  id: string;
  offsetMs: number;
  driftPpm: number;
}

export interface InProcessHostsOptions {
  hosts: InProcessHostSpec[];
  /** Shared by every host, as etcd is. */
  ledger: PaymentLedger;
  /** Shared event store; none: no event log. */
  eventStore?: EventStore;
  /** Initial leader (time master). Default the first host. */
  leaderId?: string;
  /** When false, hosts get no cluster view and never synchronize. Default true. */
  syncEnabled?: boolean;
  /**
   * The URL host `fromId` uses to reach `to` (its view of the cluster), e.g. through a delaying
   * link proxy. Default: `to.url`, direct.
   */
  route?: (fromId: string, to: HostInfo) => string;
  /** Applied to every host. */
  tuning?: Pick<HostClocksOptions, 'sync' | 'events' | 'hlc' | 'maxEventLatenessMs'> & {
    maxSlewRate?: number;
  };
}

export interface InProcessHost {
  id: string;
  url: string;
  clocks: HostClocks;
  view: StaticClusterView;
  peer: HttpTimePeer;
  alive: boolean;
  server: ServerType;
}

export class InProcessHosts {
  private constructor(
    readonly hosts: InProcessHost[],
    private members: HostInfo[],
    /** An API key acting for every account, with the admin scope, valid on every host. */
    readonly adminKey: string,
    /** Each host's view of the members, through the routes it was started with. */
    private readonly routed: (fromId: string, members: HostInfo[]) => HostInfo[],
  ) {}

  static async start({
    hosts,
    ledger,
    eventStore,
    leaderId,
    syncEnabled = true,
    route = (_, to) => to.url,
    tuning = {},
  }: InProcessHostsOptions) {
    const members: HostInfo[] = [];
    for (const spec of hosts) {
      // An ephemeral port from the OS: scanning a fixed range from its start, two test workers pick the same ports.
      const port = await getPort({ host: '127.0.0.1' });
      members.push({ id: spec.id, url: `http://127.0.0.1:${port}`, since: '' });
    }
    const leader = leaderId ?? hosts[0]?.id;
    const routed = (fromId: string, list: HostInfo[]) =>
      list.map((m) => (m.id === fromId ? m : { ...m, url: route(fromId, m) }));
    // One key store shared by the hosts, as etcd's is by real hosts.
    const apiKeys = new MemoryApiKeyStore();
    const createdAt = new Date(machineTime()).toISOString();
    const admin = await issueApiKey(apiKeys, ADMIN_GRANT, createdAt);
    const started = await Promise.all(
      hosts.map(async (spec, i) => {
        const view = new StaticClusterView(spec.id, routed(spec.id, members), leader);
        const hostKey = await issueHostKey(apiKeys, spec.id, createdAt);
        const peer = new HttpTimePeer({ apiKey: () => hostKey });
        const clocks = createHostClocks({
          hostId: spec.id,
          view: syncEnabled ? view : undefined,
          eventStore,
          peer,
          clock: { offsetMs: spec.offsetMs, driftPpm: spec.driftPpm, maxSlewRate: tuning.maxSlewRate },
          hlc: tuning.hlc,
          sync: tuning.sync,
          events: tuning.events,
          maxEventLatenessMs: tuning.maxEventLatenessMs,
        });
        const app = createApp({
          ledger,
          apiKeys,
          clock: clocks.hostClock,
          hostId: spec.id,
          clocks: clocks.deps,
        });
        const port = Number(new URL(members[i]!.url).port);
        const server = await new Promise<ServerType>((resolve) => {
          const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
        });
        return { id: spec.id, url: members[i]!.url, clocks, view, peer, alive: true, server };
      }),
    );
    for (const h of started) h.clocks.start();
    return new InProcessHosts(started, members, admin.key, routed);
  }

  host(id: string): InProcessHost {
    const h = this.hosts.find((x) => x.id === id);
    if (!h) throw new Error(`no host ${id}`);
    return h;
  }

  /** Every live host's corrected clock minus true time, read at one instant. */
  errorsAgainstTrueTime(): { id: string; errorMs: number }[] {
    const live = this.hosts.filter((h) => h.alive);
    // True time is read before and after the clocks; a reading the garbage collector paused in the
    // middle of is taken again, or it would show every host off by the pause.
    for (let attempt = 0; ; attempt++) {
      const before = machineTime(); // the true time of the simulation: HostClock's default source
      const readings = live.map((h) => h.clocks.hostClock.now());
      const after = machineTime();
      if (after - before < 0.2 || attempt === 9) {
        const trueNow = (before + after) / 2;
        return live.map((h, i) => ({ id: h.id, errorMs: readings[i]! - trueNow }));
      }
    }
  }

  /** Largest pairwise difference between live hosts' corrected clocks, ms. */
  maxPairwiseOffsetMs(): number {
    const errors = this.errorsAgainstTrueTime().map((e) => e.errorMs);
    return Math.max(...errors) - Math.min(...errors);
  }

  /** Crashes a host: its server and timers stop, and every other view drops it. */
  async kill(id: string): Promise<void> {
    const h = this.host(id);
    h.alive = false;
    await h.clocks.stop();
    h.server.close();
    (h.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    this.members = this.members.filter((m) => m.id !== id);
    for (const other of this.hosts)
      if (other.alive) other.view.update({ hosts: this.routed(other.id, this.members) });
  }

  /** Moves the leadership (as an election would). */
  setLeader(id: string): void {
    for (const h of this.hosts) if (h.alive) h.view.update({ leaderId: id });
  }

  /** Total HTTP messages of clock synchronization so far. */
  syncMessages(): number {
    return this.hosts.reduce((sum, h) => sum + h.peer.messages, 0);
  }

  async stop(): Promise<void> {
    for (const h of this.hosts) {
      if (!h.alive) continue;
      h.alive = false;
      await h.clocks.stop();
      h.server.close();
      (h.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }
  }
}
