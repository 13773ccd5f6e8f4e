/**
 * The quota guard: each host watches every etcd member's database size and etcd's alarm list, and
 * pauses new payments before etcd's space quota is reached.
 *
 * Why the hosts must: etcd 3.4 charges its quota (--quota-backend-bytes) only to a transaction's
 * top-level puts, and the commit transaction nests one transaction per payment
 * (ledger/etcd/commit-transaction.ts). Payments would pass the quota and grow the database
 * without bound, while every other write (registration, API keys, the leader's fenced records) is
 * refused under NOSPACE. So a host refuses payments (503 storage_full, functions/middleware/
 * storage-guard.ts) while any member's database is past the high-water mark, or while a NOSPACE
 * alarm is raised, and accepts them again by itself once a later poll finds it back under.
 *
 * The size compared is `dbSize`, the backend's allocated size, because that is what etcd 3.4
 * holds against its quota; `dbSizeInUse` (reported since 3.4) tells how much a defragmentation
 * would give back. Only the root role may defragment or disarm an alarm, so reclaiming space is
 * the operator's step (`payctl maintain`, docs/operations.md), never the hosts'.
 *
 * Any alarm that size does not explain (a NOSPACE while every member is under the mark, a
 * CORRUPT) is an incident: on etcd 3.4 any client can raise an alarm, and under NOSPACE etcd skips
 * its permission checks on writes (issue 17 §5). It is logged as an error and reported to the
 * listeners (GET /cluster, /metrics, the dashboard).
 */
import { AlarmAction, AlarmType, type Etcd3 } from 'etcd3';
import { type EtcdMemberProbe, type EtcdMemberStatus, withDeadline } from './etcd-members';

/** One member's backend as last seen (EtcdMemberStatus carries these fields). */
export type MemberStorage = Pick<
  EtcdMemberStatus,
  'name' | 'clientUrl' | 'memberId' | 'dbSizeBytes' | 'dbSizeInUseBytes'
>;

/** One raised etcd alarm, as the Alarm call lists it. */
export interface EtcdAlarm {
  memberId: string;
  /** `NOSPACE`, `CORRUPT`, … */
  alarm: string;
}

/** Where the guard reads sizes and alarms: the member probe and etcd's alarm list (etcdStorageSource). */
export interface StorageStatusSource {
  /** One entry per member; a member that did not answer has null sizes. */
  members(): Promise<MemberStorage[]>;
  alarms(): Promise<EtcdAlarm[]>;
}

export interface AlarmStatus {
  /** The member's name when known, else its id. */
  member: string;
  alarm: string;
  /** False for an alarm that the database sizes do not explain: an incident. */
  explained: boolean;
}

export interface MemberStorageStatus {
  name: string;
  dbSizeBytes: number;
  dbSizeInUseBytes: number | null;
  /** At or past the high-water mark. */
  overMark: boolean;
  /** The member did not answer the last poll: this is its last known size. */
  stale: boolean;
}

/** What the guard knows, served in GET /cluster as `storage`. */
export interface StorageReport {
  quotaBytes: number;
  highWaterBytes: number;
  /** True while payments are refused: a member past the mark, or a NOSPACE alarm raised. */
  full: boolean;
  /** Why payments are refused; null while they are not. */
  reason: string | null;
  members: MemberStorageStatus[];
  alarms: AlarmStatus[];
  /** When sizes and alarms were last read (ISO-8601), or null before the first poll. */
  checkedAt: string | null;
  /** Why the last poll failed, if it did (the previous readings stay). */
  pollError?: string;
}

export interface QuotaGuardOptions {
  source: StorageStatusSource;
  /** etcd's --quota-backend-bytes. Default 2 GiB, etcd's own default when started without the flag. */
  quotaBytes?: number;
  /** Fraction of the quota past which payments are refused. Default 0.9. */
  highWaterRatio?: number;
  /**
   * Pause between polls, ms. Default 1000. The headroom above the mark must hold what the cluster
   * can write in one interval: 10 % of 8 GiB is hours of payments; of a 16 MiB test quota, seconds.
   */
  intervalMs?: number;
  /** Bound on one poll (sizes and alarms), ms; a poll that takes longer keeps the last readings. Default 2000. */
  deadlineMs?: number;
  /** Wall clock for `checkedAt`. Default Date.now. */
  now?: () => number;
  log?: (event: Record<string, unknown>) => void;
}

/** Called after every poll with the report and the alarms raised since the previous poll. */
export type StorageListener = (report: StorageReport, raised: AlarmStatus[]) => void;

export const DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;
export const DEFAULT_HIGH_WATER_RATIO = 0.9;

export class QuotaGuard {
  private readonly source: StorageStatusSource;
  private readonly quotaBytes: number;
  private readonly highWaterBytes: number;
  private readonly intervalMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;
  private readonly log: (event: Record<string, unknown>) => void;
  private readonly listeners = new Set<StorageListener>();
  /**
   * Last known reading per member, by client URL (a member's name is unknown while the member list
   * cannot be read), so a member that stops answering keeps its size.
   */
  private readonly lastSizes = new Map<
    string,
    { name: string; dbSizeBytes: number; dbSizeInUseBytes: number | null; stale: boolean }
  >();
  private current: StorageReport;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<StorageReport> | undefined;

  constructor({
    source,
    quotaBytes = DEFAULT_QUOTA_BYTES,
    highWaterRatio = DEFAULT_HIGH_WATER_RATIO,
    intervalMs = 1000,
    deadlineMs = 2000,
    now = Date.now,
    log = () => {},
  }: QuotaGuardOptions) {
    if (!(highWaterRatio > 0 && highWaterRatio <= 1)) throw new Error('highWaterRatio must be in (0, 1]');
    this.source = source;
    this.quotaBytes = quotaBytes;
    this.highWaterBytes = Math.floor(quotaBytes * highWaterRatio);
    this.intervalMs = intervalMs;
    this.deadlineMs = deadlineMs;
    this.now = now;
    this.log = log;
    this.current = {
      quotaBytes,
      highWaterBytes: this.highWaterBytes,
      full: false,
      reason: null,
      members: [],
      alarms: [],
      checkedAt: null,
    };
  }

  /** The latest report. Before the first poll nothing is known, and payments are not refused. */
  report(): StorageReport {
    return this.current;
  }

  /** Subscribes to every poll's report; returns the unsubscribe. */
  onReport(listener: StorageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll (or the one already running): reads sizes and alarms, decides, tells the listeners. */
  poll(): Promise<StorageReport> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<StorageReport> {
    const previous = this.current;
    let members: MemberStorage[];
    let alarms: EtcdAlarm[];
    try {
      [members, alarms] = await withDeadline(
        Promise.all([this.source.members(), this.source.alarms()]),
        this.deadlineMs,
      );
    } catch (error) {
      // Keep deciding on the last readings: a poll that fails says nothing about the database.
      this.current = { ...previous, pollError: (error as Error).message };
      this.notify([]);
      return this.current;
    }
    for (const m of members) {
      const last = this.lastSizes.get(m.clientUrl);
      if (m.dbSizeBytes !== null && Number.isFinite(m.dbSizeBytes)) {
        const inUse = m.dbSizeInUseBytes;
        this.lastSizes.set(m.clientUrl, {
          name: m.name,
          dbSizeBytes: m.dbSizeBytes,
          dbSizeInUseBytes: inUse !== null && Number.isFinite(inUse) ? inUse : null,
          stale: false,
        });
      } else if (last) {
        this.lastSizes.set(m.clientUrl, { ...last, name: m.name, stale: true });
      }
    }
    const idToName = new Map(members.flatMap((m) => (m.memberId ? [[m.memberId, m.name] as const] : [])));
    const report = assessStorage({
      members: [...this.lastSizes.values()],
      alarms: alarms.map((a) => ({ member: idToName.get(a.memberId) ?? a.memberId, alarm: a.alarm })),
      quotaBytes: this.quotaBytes,
      highWaterBytes: this.highWaterBytes,
    });
    report.checkedAt = new Date(this.now()).toISOString();
    this.current = report;
    const key = (a: AlarmStatus) => `${a.member}/${a.alarm}`;
    const before = new Set(previous.alarms.map(key));
    const raised = report.alarms.filter((a) => !before.has(key(a)));
    this.logChanges(previous, report, raised);
    this.notify(raised);
    return report;
  }

  private logChanges(previous: StorageReport, report: StorageReport, raised: AlarmStatus[]): void {
    for (const a of raised) {
      if (a.explained) this.log({ level: 'warn', msg: 'etcd alarm raised', ...a });
      else
        this.log({
          level: 'error',
          msg: 'etcd alarm that database size does not explain: treat as an incident',
          ...a,
          quotaBytes: report.quotaBytes,
          members: report.members,
        });
    }
    const now = new Set(report.alarms.map((a) => `${a.member}/${a.alarm}`));
    for (const a of previous.alarms) {
      if (!now.has(`${a.member}/${a.alarm}`)) this.log({ level: 'info', msg: 'etcd alarm cleared', ...a });
    }
    if (report.full && !previous.full) {
      this.log({ level: 'warn', msg: 'payments paused: etcd storage', reason: report.reason });
    } else if (!report.full && previous.full) {
      this.log({ level: 'info', msg: 'payments resumed: etcd storage back under the mark' });
    }
  }

  private notify(raised: AlarmStatus[]): void {
    for (const listener of this.listeners) listener(this.current, raised);
  }
}

export interface StorageAssessmentInput {
  members: (Omit<MemberStorageStatus, 'overMark'> & { dbSizeInUseBytes: number | null })[];
  alarms: { member: string; alarm: string }[];
  quotaBytes: number;
  highWaterBytes: number;
}

/**
 * The guard's decision, from sizes and alarms alone. A NOSPACE alarm is explained when the member
 * that raised it (or, when it is not known, the largest member) is at or past the mark; any other
 * alarm is never explained by size.
 */
export function assessStorage({
  members,
  alarms,
  quotaBytes,
  highWaterBytes,
}: StorageAssessmentInput): StorageReport {
  const statuses = members.map((m) => ({ ...m, overMark: m.dbSizeBytes >= highWaterBytes }));
  const largest = Math.max(0, ...statuses.map((m) => m.dbSizeBytes));
  const alarmStatuses = alarms.map(({ member, alarm }) => {
    const name = alarm.toUpperCase();
    const size = statuses.find((m) => m.name === member)?.dbSizeBytes ?? largest;
    return { member, alarm: name, explained: name === 'NOSPACE' && size >= highWaterBytes };
  });
  const over = statuses.filter((m) => m.overMark);
  const nospace = alarmStatuses.filter((a) => a.alarm === 'NOSPACE');
  const reasons = [
    ...over.map(
      (m) =>
        `etcd member ${m.name}'s database is ${mib(m.dbSizeBytes)}, past the high-water mark of ${mib(highWaterBytes)} (quota ${mib(quotaBytes)})`,
    ),
    ...nospace.map((a) => `etcd raised its NOSPACE alarm (member ${a.member})`),
  ];
  return {
    quotaBytes,
    highWaterBytes,
    full: reasons.length > 0,
    reason: reasons.length > 0 ? reasons.join('; ') : null,
    members: statuses,
    alarms: alarmStatuses,
    checkedAt: null,
  };
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/**
 * Sizes from the member probe (one Status per member, each within the probe's deadline) and the
 * alarm list from the host's client. etcd 3.4 lets any authenticated user list alarms.
 */
export function etcdStorageSource(probe: EtcdMemberProbe, client: Etcd3): StorageStatusSource {
  return {
    members: () => probe.statuses(),
    alarms: async () =>
      (
        await client.maintenance.alarm({ action: AlarmAction.Get, memberID: 0, alarm: AlarmType.None })
      ).alarms.map((a) => ({
        memberId: String(a.memberID),
        alarm: String(a.alarm),
      })),
  };
}

/**
 * Why payments are paused, for readers without the admin scope (`/ready` is open): which members,
 * never their sizes or the quota (issue 17 §7). The sizes are in `reason`, for `/cluster` (admin)
 * and the log.
 */
export function storageSummary(report: StorageReport): string {
  const over = report.members.filter((m) => m.overMark).map((m) => m.name);
  const nospace = report.alarms.filter((a) => a.alarm === 'NOSPACE').map((a) => a.member);
  const parts = [
    ...(over.length > 0 ? [`etcd storage past its high-water mark on ${over.join(', ')}`] : []),
    ...(nospace.length > 0 ? [`etcd NOSPACE alarm on ${nospace.join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'etcd storage is full';
}

/**
 * Why the archiver must not write now, from the guard's report, or undefined when it may. Past
 * the mark payments stop but archival goes on (it is what empties etcd), and each removal rewrites
 * summary levels; those writes must stop short of the quota, halfway between the mark and it:
 * under NOSPACE etcd refuses a removal's puts, and archival could no longer free anything until an
 * operator disarms the alarm. Regression: a 64 MiB soak's catch-up raised NOSPACE this way.
 */
export function archivalHoldReason(report: StorageReport): string | undefined {
  const limit = (report.highWaterBytes + report.quotaBytes) / 2;
  const nospace = report.alarms.find((a) => a.alarm === 'NOSPACE');
  if (nospace) return `etcd NOSPACE alarm on ${nospace.member}`;
  const over = report.members.find((m) => m.dbSizeBytes >= limit);
  return over
    ? `etcd member ${over.name}'s database is ${over.dbSizeBytes} bytes, within ${report.quotaBytes - over.dbSizeBytes} of the quota`
    : undefined;
}
