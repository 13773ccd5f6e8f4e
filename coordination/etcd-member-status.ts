/**
 * Status of each etcd member, probed one member at a time through etcd's JSON gateway
 * (`POST /v3/maintenance/status`, `/v3/cluster/member/list`) with a short timeout, so a dead or
 * paused member shows as unhealthy instead of stalling the probe. The shape matches the
 * `etcd.members` entries of `GET /cluster`, for the dashboard and `payctl status`.
 */

export interface EtcdMemberStatus {
  name: string;
  clientUrl: string;
  healthy: boolean;
  isLeader: boolean;
  raftTerm: number | null;
  raftIndex: number | null;
}

export interface ProbeOptions {
  /** Per-call timeout, ms. Default 800 (a paused member accepts the connection and never answers). */
  timeoutMs?: number;
}

interface StatusAnswer {
  header?: { member_id?: string };
  leader?: string;
  raftIndex?: string;
  raftTerm?: string;
}

interface MemberListAnswer {
  members?: { ID?: string; name?: string; clientURLs?: string[] }[];
}

async function post<T>(url: string, timeoutMs: number): Promise<T> {
  const response = await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** Probes every endpoint in parallel; never throws (an unreachable member is `healthy: false`). */
export async function probeEtcdMembers(
  endpoints: string[],
  { timeoutMs = 800 }: ProbeOptions = {},
): Promise<EtcdMemberStatus[]> {
  const urls = endpoints.map(trimSlash);
  const statuses = await Promise.all(
    urls.map((url) => post<StatusAnswer>(`${url}/v3/maintenance/status`, timeoutMs).catch(() => undefined)),
  );
  const reachable = urls.filter((_, i) => statuses[i] !== undefined);
  let list: MemberListAnswer = {};
  for (const url of reachable) {
    list = await post<MemberListAnswer>(`${url}/v3/cluster/member/list`, timeoutMs).catch(() => ({}));
    if (list.members) break;
  }
  const byUrl = new Map<string, { id?: string; name?: string }>();
  for (const m of list.members ?? []) {
    for (const u of m.clientURLs ?? []) byUrl.set(trimSlash(u), { id: m.ID, name: m.name });
  }
  return urls.map((clientUrl, i) => {
    const status = statuses[i];
    const known = byUrl.get(clientUrl);
    const memberId = status?.header?.member_id ?? known?.id;
    return {
      name: known?.name ?? clientUrl,
      clientUrl,
      healthy: status !== undefined && status.leader !== undefined && status.leader !== '0',
      isLeader: status !== undefined && memberId !== undefined && status.leader === memberId,
      raftTerm: status?.raftTerm === undefined ? null : Number(status.raftTerm),
      raftIndex: status?.raftIndex === undefined ? null : Number(status.raftIndex),
    };
  });
}
