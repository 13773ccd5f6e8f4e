/**
 * `payctl maintain`: the operator's step that gives etcd's file space back and lifts a NOSPACE
 * alarm. Both need etcd's root role, which the hosts do not hold (docs/security.md), so this runs
 * with the local cluster's root credential, whose files `npm start` records in its state file.
 * The runbook is in docs/operations.md ("etcd storage full").
 *
 *  1. Defragments every member, one at a time, the raft leader last: a member does nothing else
 *     while it defragments, and the others keep the quorum meanwhile.
 *  2. Disarms NOSPACE only when every member's database is then under the hosts' high-water mark
 *     (GET /cluster's `etcd.storage.highWaterBytes`, or --high-water-bytes): the hosts' quota guard
 *     resumes payments by itself at its next poll. Any other alarm (CORRUPT) is left to a person.
 *
 * Defragmentation frees only what compaction freed: the leader compacts by the retention policy
 * (coordination/cluster/ledger-maintenance.ts); payments themselves are never deleted from etcd.
 */
import { AlarmAction, AlarmType, type Etcd3 } from 'etcd3';
import { withDeadline } from '../coordination/cluster/etcd-members';
import { createEtcdClient, type EtcdTlsCredentials } from '../coordination/etcd/etcd-client';

/** Bound on a Status call: a paused member never answers, and only the defragmentation may take long. */
const STATUS_DEADLINE_MS = 5000;

export interface MaintainOptions {
  /** Client URL of every member. */
  endpoints: string[];
  /** Root's credential; none for a plain cluster. */
  tls?: EtcdTlsCredentials;
  /** NOSPACE is disarmed only when every member is under this; undefined: never disarmed. */
  highWaterBytes?: number;
  /** Deadline of one member's defragmentation, ms. Default 120 000. */
  defragDeadlineMs?: number;
  progress?: (line: string) => void;
}

export interface MemberSpace {
  name: string;
  clientUrl: string;
  /** Sizes before and after, bytes; null when the member did not answer. */
  dbSizeBefore: number | null;
  dbSizeAfter: number | null;
  dbSizeInUseAfter: number | null;
  defragmented: boolean;
  error?: string;
}

export interface AlarmEntry {
  member: string;
  alarm: string;
}

export interface MaintainResult {
  members: MemberSpace[];
  highWaterBytes: number | null;
  /** Every member answered and is under the mark. */
  underMark: boolean;
  disarmed: AlarmEntry[];
  /** Alarms still raised afterwards. */
  alarms: AlarmEntry[];
}

interface MemberProbe {
  clientUrl: string;
  client: Etcd3;
  id: string | null;
  isLeader: boolean;
  dbSize: number | null;
}

export async function maintainEtcd({
  endpoints,
  tls,
  highWaterBytes,
  defragDeadlineMs = 120_000,
  progress = () => {},
}: MaintainOptions): Promise<MaintainResult> {
  const cluster = createEtcdClient({ endpoints, tls, callDeadlineMs: 5000 });
  // One client per member, one attempt each: a defragmentation must happen on that member only.
  const probes: MemberProbe[] = endpoints.map((clientUrl) => ({
    clientUrl,
    client: createEtcdClient({ endpoints: [clientUrl], tls, attempts: 1, callDeadlineMs: defragDeadlineMs }),
    id: null,
    isLeader: false,
    dbSize: null,
  }));
  try {
    const names = new Map<string, string>();
    for (const m of (await cluster.cluster.memberList({})).members) names.set(String(m.ID), m.name);
    for (const p of probes) {
      const s = await withDeadline(p.client.maintenance.status(), STATUS_DEADLINE_MS).catch(() => undefined);
      if (!s) continue;
      p.id = String(s.header.member_id);
      p.isLeader = s.leader === s.header.member_id;
      p.dbSize = Number(s.dbSize);
    }
    const nameOf = (p: MemberProbe) => (p.id && names.get(p.id)) || p.clientUrl;
    const members: MemberSpace[] = [];
    for (const p of [...probes].sort((a, b) => Number(a.isLeader) - Number(b.isLeader))) {
      const entry: MemberSpace = {
        name: nameOf(p),
        clientUrl: p.clientUrl,
        dbSizeBefore: p.dbSize,
        dbSizeAfter: null,
        dbSizeInUseAfter: null,
        defragmented: false,
      };
      members.push(entry);
      if (p.dbSize === null) {
        // Down or paused: a defragmentation would wait for it until its deadline.
        entry.error = 'did not answer its Status call; not defragmented';
        progress(`${entry.name}: ${entry.error}`);
        continue;
      }
      try {
        progress(`defragmenting ${entry.name}${p.isLeader ? ' (raft leader)' : ''} …`);
        await withDeadline(p.client.maintenance.defragment(), defragDeadlineMs);
        entry.defragmented = true;
        const after = await withDeadline(p.client.maintenance.status(), STATUS_DEADLINE_MS);
        entry.dbSizeAfter = Number(after.dbSize);
        entry.dbSizeInUseAfter = after.dbSizeInUse === undefined ? null : Number(after.dbSizeInUse);
        progress(`${entry.name}: ${mib(entry.dbSizeBefore)} → ${mib(entry.dbSizeAfter)}`);
      } catch (error) {
        entry.error = (error as Error).message;
        progress(`${entry.name}: not defragmented: ${entry.error}`);
      }
    }
    const underMark =
      highWaterBytes !== undefined &&
      members.every((m) => m.dbSizeAfter !== null && m.dbSizeAfter < highWaterBytes);
    const list = async () =>
      (await cluster.maintenance.alarm({ action: AlarmAction.Get, memberID: 0, alarm: AlarmType.None }))
        .alarms;
    const disarmed: AlarmEntry[] = [];
    for (const a of await list()) {
      if (String(a.alarm).toUpperCase() !== 'NOSPACE' || !underMark) continue;
      await cluster.maintenance.alarm({
        action: AlarmAction.Deactivate,
        memberID: a.memberID,
        alarm: AlarmType.Nospace,
      });
      disarmed.push({ member: names.get(String(a.memberID)) ?? String(a.memberID), alarm: 'NOSPACE' });
    }
    const alarms = (await list()).map((a) => ({
      member: names.get(String(a.memberID)) ?? String(a.memberID),
      alarm: String(a.alarm).toUpperCase(),
    }));
    return { members, highWaterBytes: highWaterBytes ?? null, underMark, disarmed, alarms };
  } finally {
    cluster.close();
    for (const p of probes) p.client.close();
  }
}

export const mib = (bytes: number | null) => (bytes === null ? '?' : `${(bytes / 1024 ** 2).toFixed(1)} MiB`);
