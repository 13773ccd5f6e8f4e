/**
 * Health of each etcd member, asked of the member itself: a Status call with a short deadline on
 * a client bound to that one member. A member that is down refuses the connection; a paused one
 * (SIGSTOP) accepts it and never answers, so only the deadline can tell, and it is what makes a
 * stopped member show as unhealthy within `deadlineMs` (default 1 s, well inside 2 s).
 *
 * The leader's maintenance duty uses the same per-member clients to defragment members one at a
 * time (defragmentation is per member and blocks that member while it runs).
 */
import type { Etcd3, IStatusResponse } from 'etcd3';
import { createEtcdClient, type EtcdTlsCredentials } from '../etcd/etcd-client';

export interface EtcdMemberStatus {
  name: string;
  clientUrl: string;
  /** etcd's id of the member (decimal), as alarms name it; null when it did not answer. */
  memberId: string | null;
  healthy: boolean;
  isLeader: boolean;
  raftTerm: number | null;
  raftIndex: number | null;
  /** Physically allocated backend size and the part in use, bytes (drives defragmentation). */
  dbSizeBytes: number | null;
  dbSizeInUseBytes: number | null;
  /** Why the member counts as unhealthy. */
  error?: string;
}

export interface EtcdMemberProbeOptions {
  /** Client URLs of every member. */
  endpoints: string[];
  /** The host's main client, used to learn member names. */
  client: Etcd3;
  /** Deadline of one Status call, ms. Default 1000. */
  deadlineMs?: number;
  /** TLS credentials for the per-member clients (the main client's). Default none. */
  tls?: EtcdTlsCredentials;
}

export class EtcdMemberProbe {
  private readonly perMember: Map<string, Etcd3>;
  private readonly client: Etcd3;
  private readonly deadlineMs: number;
  private names = new Map<string, string>();

  constructor({ endpoints, client, deadlineMs = 1000, tls }: EtcdMemberProbeOptions) {
    this.client = client;
    this.deadlineMs = deadlineMs;
    // One attempt and a short breaker cool-down: a status must describe this member, now.
    this.perMember = new Map(
      endpoints.map((url) => [
        url,
        createEtcdClient({
          endpoints: [url],
          attempts: 1,
          callDeadlineMs: deadlineMs,
          breakerCooldownMs: 500,
          dialTimeoutMs: deadlineMs,
          tls,
        }),
      ]),
    );
  }

  /** The client bound to one member. */
  memberClient(url: string): Etcd3 | undefined {
    return this.perMember.get(url);
  }

  /** One status per member, within about `deadlineMs` even when some member never answers. */
  async statuses(): Promise<EtcdMemberStatus[]> {
    // Names and statuses are asked at once: waiting for one then the other would double the time
    // a paused member costs.
    const [, statuses] = await Promise.all([
      this.refreshNames(),
      Promise.all([...this.perMember.entries()].map(([url, c]) => this.status(url, c))),
    ]);
    return statuses.map((s) => ({ ...s, name: this.names.get(s.clientUrl) ?? s.clientUrl }));
  }

  close(): void {
    for (const c of this.perMember.values()) c.close();
  }

  private async status(clientUrl: string, member: Etcd3): Promise<EtcdMemberStatus> {
    const name = clientUrl; // replaced by the member's name in statuses()
    try {
      const s: IStatusResponse = await withDeadline(member.maintenance.status(), this.deadlineMs);
      // etcd lists its raised alarms among a Status's errors ("memberID:… alarm:NOSPACE"). A member
      // under an alarm still answers, so the alarm is no sign of ill health: the quota guard reports
      // alarms (coordination/cluster/quota-guard.ts). Regression: a NOSPACE showed every member down.
      const errors = s.errors.filter((e) => !/alarm:/.test(e));
      return {
        name,
        clientUrl,
        memberId: s.header.member_id,
        healthy: errors.length === 0 && s.leader !== '0',
        isLeader: s.leader === s.header.member_id,
        // etcd sends int64s as strings; terms and indexes stay far below 2^53.
        raftTerm: Number(s.raftTerm),
        raftIndex: Number(s.raftIndex),
        dbSizeBytes: Number(s.dbSize),
        // Absent before etcd 3.4.
        dbSizeInUseBytes: s.dbSizeInUse === undefined ? null : Number(s.dbSizeInUse),
        ...(errors.length > 0
          ? { error: errors.join('; ') }
          : s.leader === '0'
            ? { error: 'no leader' }
            : {}),
      };
    } catch (error) {
      return {
        name,
        clientUrl,
        memberId: null,
        healthy: false,
        isLeader: false,
        raftTerm: null,
        raftIndex: null,
        dbSizeBytes: null,
        dbSizeInUseBytes: null,
        error: (error as Error).message,
      };
    }
  }

  /** Member names by client URL; the last known names stay when no member answers. */
  private async refreshNames(): Promise<void> {
    try {
      const list = await withDeadline(this.client.cluster.memberList({}), this.deadlineMs);
      const names = new Map<string, string>();
      for (const m of list.members) for (const url of m.clientURLs) names.set(url, m.name || url);
      this.names = names;
    } catch {
      // keep the previous names
    }
  }
}

/** Rejects after `ms` even if the call's own deadline is not honoured (a paused peer). */
export function withDeadline<T>(operation: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([operation, deadline]).finally(() => clearTimeout(timer));
}
