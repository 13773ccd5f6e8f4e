/**
 * The etcd-backed ClusterView: membership (who is alive) and leader election (who leads) behind
 * the one interface the rest of the system reads (coordination/cluster/cluster-view.ts).
 */
import type { ClusterView, HostInfo, LeaderInfo } from './cluster-view';
import type { LeaderElection } from './leader-election';
import type { Membership } from './membership';

export class EtcdClusterView implements ClusterView {
  constructor(
    readonly selfId: string,
    private readonly membership: Membership,
    private readonly election: LeaderElection,
  ) {}

  liveHosts(): HostInfo[] {
    return this.membership.liveHosts();
  }

  leader(): LeaderInfo | undefined {
    return this.election.leader();
  }

  isLeader(): boolean {
    return this.election.isLeader();
  }

  onChange(listener: () => void): () => void {
    const offMembers = this.membership.onChange(listener);
    const offLeader = this.election.onChange(listener);
    return () => {
      offMembers();
      offLeader();
    };
  }
}
