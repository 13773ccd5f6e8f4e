/**
 * A ClusterView whose members and leader are set from outside rather than elected: used by the
 * tests (which change it to simulate a leader's death), and by a host started with CLUSTER_HOSTS
 * in place of the etcd membership view (etcd-cluster-view.ts) that hosts use otherwise. It
 * elects nothing.
 */
import type { ClusterView, HostInfo, LeaderInfo } from './cluster-view';

export class StaticClusterView implements ClusterView {
  private hosts: HostInfo[];
  private leaderId: string | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly selfId: string,
    hosts: HostInfo[],
    leaderId?: string,
  ) {
    this.hosts = hosts;
    this.leaderId = leaderId;
  }

  liveHosts(): HostInfo[] {
    return [...this.hosts];
  }

  leader(): LeaderInfo | undefined {
    const host = this.hosts.find((h) => h.id === this.leaderId);
    return host ? { ...host, fencingToken: '0' } : undefined;
  }

  isLeader(): boolean {
    return this.leaderId === this.selfId && this.hosts.some((h) => h.id === this.selfId);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces the live set and/or the leader, and notifies listeners. */
  update({ hosts = this.hosts, leaderId = this.leaderId }: { hosts?: HostInfo[]; leaderId?: string }): void {
    this.hosts = hosts;
    this.leaderId = leaderId;
    for (const listener of this.listeners) listener();
  }
}

/**
 * Parses `h1=http://127.0.0.1:8081,h2=http://127.0.0.1:8082` (the CLUSTER_HOSTS format).
 * Throws on a malformed entry.
 */
export function parseClusterHosts(text: string): HostInfo[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf('=');
      const id = entry.slice(0, at);
      const url = entry.slice(at + 1).replace(/\/+$/, '');
      if (at < 1 || !/^https?:\/\/\S+$/.test(url))
        throw new Error(`bad cluster host entry "${entry}": want id=http://host:port`);
      return { id, url, since: '' };
    });
}
