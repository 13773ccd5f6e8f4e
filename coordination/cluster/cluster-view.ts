/**
 * What a host knows about the cluster of function hosts: who is alive and who leads. The
 * membership and leader-election modules maintain it from etcd; clock synchronization and the
 * coordination duties read it. Kept as a small interface so each consumer can be tested with a
 * fake view, and so the etcd-backed one is the only place that talks to etcd about membership.
 */

export interface HostInfo {
  id: string;
  /** Base URL other hosts and clients reach it at, e.g. http://127.0.0.1:8081. */
  url: string;
  /** ISO-8601 time the host registered. */
  since: string;
}

export interface LeaderInfo extends HostInfo {
  /** The campaign key's create revision: a leader's writes are fenced on it. */
  fencingToken: string;
}

export interface ClusterView {
  /** This host's id. */
  readonly selfId: string;
  /** Hosts whose membership lease is alive, as last seen (a watch keeps it fresh). */
  liveHosts(): HostInfo[];
  /** The current leader as last seen, if any. */
  leader(): LeaderInfo | undefined;
  /** True only while this host leads and its lease is surely still valid. */
  isLeader(): boolean;
  /** Calls `listener` whenever the live set or the leader changes; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
}
