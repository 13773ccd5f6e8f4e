/**
 * Network delay between in-process hosts (dev/cluster/in-process-hosts.ts): one delaying TCP link
 * proxy (dev/chaos/link-proxy.ts) per ordered pair of hosts, so that every request a host sends to
 * another, and its answer, cross the configured delays. Ports are chosen before the hosts start
 * (their views need the proxies' URLs); the proxies start once the hosts' own ports are known.
 */
import getPort from 'get-port';
import type { HostInfo } from '../../coordination/cluster/cluster-view';
import type { InProcessHosts } from '../cluster/in-process-hosts';
import type { LinkDelays } from './link-delay';
import { LinkProxy } from './link-proxy';

export class DelayedHostLinks {
  private readonly proxies: LinkProxy[] = [];

  private constructor(
    private readonly ports: Map<string, number>,
    private readonly delays: LinkDelays,
  ) {}

  /** Reserves a port per ordered pair of `ids`. */
  static async reserve(ids: string[], delays: LinkDelays): Promise<DelayedHostLinks> {
    const ports = new Map<string, number>();
    for (const a of ids) for (const b of ids) if (a !== b) ports.set(`${a}>${b}`, await getPort());
    return new DelayedHostLinks(ports, delays);
  }

  /** For InProcessHosts' `route`: the URL through which `fromId` reaches `to`. */
  readonly route = (fromId: string, to: HostInfo): string => {
    const port = this.ports.get(`${fromId}>${to.id}`);
    if (port === undefined) throw new Error(`no link from ${fromId} to ${to.id}`);
    return `http://127.0.0.1:${port}`;
  };

  /** Starts the proxies towards `cluster`'s hosts. */
  async start(cluster: InProcessHosts): Promise<void> {
    for (const [link, listenPort] of this.ports) {
      const proxy = new LinkProxy({
        name: link,
        listenPort,
        targetPort: Number(new URL(cluster.host(link.split('>')[1]!).url).port),
        delays: this.delays,
      });
      await proxy.listen();
      this.proxies.push(proxy);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.close()));
  }
}
