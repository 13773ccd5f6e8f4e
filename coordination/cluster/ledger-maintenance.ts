/**
 * The leader's ledger maintenance duty: compaction of etcd's history under a retention policy,
 * and defragmentation of members whose backend has grown mostly free.
 *
 *  - Compaction drops MVCC history older than `keepRevisions` revisions behind the head. Payments
 *    are never deleted, so compaction frees only superseded versions (leases, membership, election
 *    keys) and lets reads at old revisions fail; a history query keeps its snapshot for far less
 *    than `keepRevisions` revisions. How often, and how many revisions while the members fill up,
 *    scales with etcd's quota (compaction-scale.ts): a small quota needs both.
 *    (Archival deletes records and rewrites summary levels, so there compaction frees a lot.)
 *  - Defragmentation returns free pages to the file system, one member at a time, because it
 *    blocks the member while it runs.
 *
 * The policy lives in etcd (`<root>/meta/retention`, JSON), so an operator changes it for the whole
 * cluster with one put; the leader writes the default when the key is absent.
 *
 * Fencing (issue 15 §6): what can be fenced is decided in one transaction. The policy is read,
 * then a single transaction fenced on the leader's term *and* guarded on the policy's mod revision
 * writes the default policy (when absent) and the record of the compaction about to run; an
 * operator's policy change in between fails the guard and the plan is made again. What cannot be
 * fenced: Compact and Defragment are RPCs of their own, not key-value operations, so etcd cannot
 * make them conditional on the campaign key. The lease bound is re-checked just before each, and
 * both are idempotent and monotonic, so the one race left (deposed between the fenced record and
 * the call) at worst compacts to a revision the policy allowed while this host certainly led, or
 * defragments a member once more.
 *
 * On a secured cluster the hosts' etcd user (payments-host) may compact but not defragment: etcd
 * 3.4 reserves Defragment to the root role. The first refusal is logged once, and defragmentation
 * is skipped from then on; an operator defragments as root (docs/operations.md).
 */
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import { NotLeaderError } from '../../ledger/errors';
import { DEFAULT_ROOT } from '../../ledger/etcd/key-layout';
import { type Clock, isoTimestamp } from '../clock/clock';
import { type CoordinationKeys, coordinationKeys } from '../etcd/key-layout';
import { type CompactionPressureOptions, keepRevisionsFor, maintenanceIntervalFor } from './compaction-scale';
import type { EtcdMemberProbe } from './etcd-members';
import type { LeaderElection, LeadershipTerm } from './leader-election';
import { PeriodicDuty } from './periodic-duty';
import { DEFAULT_HIGH_WATER_RATIO, DEFAULT_QUOTA_BYTES } from './quota-guard';

export const retentionPolicySchema = z.strictObject({
  /** Revisions of history kept behind the head. */
  keepRevisions: z.number().int().positive(),
  /** Defragment a member once this many bytes of its backend are free... */
  defragMinFreeBytes: z.number().int().nonnegative(),
  /** ...and free space is at least this fraction of the backend. */
  defragMinFreeRatio: z.number().min(0).max(1),
});

export type RetentionPolicy = z.infer<typeof retentionPolicySchema>;

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = {
  keepRevisions: 100_000,
  defragMinFreeBytes: 64 * 1024 * 1024,
  defragMinFreeRatio: 0.5,
};

/** What one maintenance pass did. */
export interface MaintenanceReport {
  compactedTo?: number;
  /** Revisions kept behind the head this pass: the policy's, or fewer under pressure (compaction-scale.ts). */
  keptRevisions?: number;
  defragmented: string[];
  policy: RetentionPolicy;
}

export interface LedgerMaintenanceOptions {
  client: Etcd3;
  election: LeaderElection;
  members: EtcdMemberProbe;
  clock: Clock;
  hostId: string;
  /** Key root. Default DEFAULT_ROOT (`/pay/v2`, ledger/etcd/key-layout.ts). */
  root?: string;
  /**
   * etcd's quota and the quota guard's mark, which scale compaction (compaction-scale.ts).
   * Default the quota guard's defaults (2 GiB, 0.9).
   */
  quota?: CompactionPressureOptions;
  /** Pause between passes while leading, ms. Default maintenanceIntervalFor(quota): 1-30 s. */
  intervalMs?: number;
  log?: (event: Record<string, unknown>) => void;
}

export class LedgerMaintenance {
  private readonly options: Required<Omit<LedgerMaintenanceOptions, 'root'>>;
  private readonly keys: CoordinationKeys;
  private readonly duty: PeriodicDuty;
  private lastCompacted = 0;
  /** Set once etcd refused a defragmentation for lack of permission: not retried. */
  private defragmentDenied = false;

  constructor({
    root = DEFAULT_ROOT,
    quota = { quotaBytes: DEFAULT_QUOTA_BYTES, highWaterRatio: DEFAULT_HIGH_WATER_RATIO },
    intervalMs = maintenanceIntervalFor(quota.quotaBytes, quota.highWaterRatio),
    log = () => {},
    ...rest
  }: LedgerMaintenanceOptions) {
    this.options = { quota, intervalMs, log, ...rest };
    this.keys = coordinationKeys(root);
    this.duty = new PeriodicDuty(
      intervalMs,
      () => this.runOnce(),
      (error) => log({ level: 'warn', msg: 'ledger maintenance stopped', error: String(error) }),
    );
  }

  start(): void {
    this.duty.start();
  }

  stop(): void {
    this.duty.stop();
  }

  /**
   * One pass, if this host leads; undefined when it does not. Throws NotLeaderError when
   * leadership is lost midway (a fenced write was refused), and stops there.
   */
  async runOnce(): Promise<MaintenanceReport | undefined> {
    const { election, client, members, hostId } = this.options;
    const term = election.currentTerm();
    if (!term) return undefined;
    const { policy, target, keptRevisions } = await this.planCompaction(term, await this.largestInUse());
    const report: MaintenanceReport = { defragmented: [], policy, keptRevisions };

    if (target !== undefined) {
      // Compact cannot sit in the transaction; re-checking the lease bound here narrows the gap
      // between the fenced plan and the act to this one call.
      if (!election.isLeader()) throw new NotLeaderError(`${hostId} lost leadership before compacting`);
      await client.kv.compact({ revision: target }).catch((error: Error) => {
        if (!/compacted/.test(error.message)) throw error; // already compacted past it: fine
      });
      this.lastCompacted = target;
      report.compactedTo = target;
    }

    for (const member of this.defragmentDenied ? [] : await members.statuses()) {
      if (!election.isLeader()) throw new NotLeaderError(`${hostId} lost leadership during maintenance`);
      if (!member.healthy || member.dbSizeBytes === null || member.dbSizeInUseBytes === null) continue;
      const free = member.dbSizeBytes - member.dbSizeInUseBytes;
      if (free < policy.defragMinFreeBytes || free < policy.defragMinFreeRatio * member.dbSizeBytes) continue;
      const memberClient = members.memberClient(member.clientUrl);
      if (!memberClient) continue;
      await this.record(term, { action: 'defragment', member: member.name, freeBytes: free });
      try {
        await memberClient.maintenance.defragment();
      } catch (error) {
        if (!/permission denied/i.test((error as Error).message)) throw error;
        this.defragmentDenied = true;
        this.options.log({
          level: 'warn',
          msg: 'etcd refuses defragmentation to this host (it needs the root role); skipping it from now on',
          member: member.name,
          defragment: 'denied',
        });
        break;
      }
      report.defragmented.push(member.name);
    }
    if (report.compactedTo !== undefined || report.defragmented.length > 0) {
      this.options.log({ level: 'info', msg: 'ledger maintenance', ...report });
    }
    return report;
  }

  /**
   * Reads the policy, then in one transaction fenced on the term *and* guarded on the policy's
   * mod revision (or its absence): writes the default policy when there is none, and the record
   * of the compaction about to run. So the compaction is decided on the policy as it stood while
   * this host certainly led; an operator's change in between makes the guard fail, and the plan
   * is made again from the new policy (up to 3 times; then this pass skips compaction).
   */
  private async planCompaction(
    term: LeadershipTerm,
    inUseBytes: number | undefined,
  ): Promise<{ policy: RetentionPolicy; target?: number; keptRevisions?: number }> {
    const { client, election } = this.options;
    const key = this.keys.retentionPolicy();
    let policy = DEFAULT_RETENTION_POLICY;
    for (let attempt = 0; attempt < 3; attempt++) {
      const read = await client.get(key).exec();
      const stored = read.kvs[0];
      policy = stored ? this.parsePolicy(stored.value.toString()) : DEFAULT_RETENTION_POLICY;
      const keptRevisions = keepRevisionsFor(policy, inUseBytes, this.options.quota);
      const target = Number(read.header.revision) - keptRevisions;
      const compact = target > this.lastCompacted;
      const ops = [
        ...(stored ? [] : [client.put(key).value(JSON.stringify(policy))]),
        ...(compact ? [this.recordOp(term, { action: 'compact', revision: target, policy })] : []),
      ];
      if (ops.length === 0) return { policy };
      const guard = { key, column: 'Mod' as const, value: stored?.mod_revision ?? 0 };
      if (await election.fencedTxnIf(guard, ops, term))
        return compact ? { policy, target, keptRevisions } : { policy };
    }
    this.options.log({ level: 'warn', msg: 'retention policy kept changing; compaction skipped this pass' });
    return { policy };
  }

  /** The largest member's in-use size (its file size when it reports none); undefined when none answered. */
  private async largestInUse(): Promise<number | undefined> {
    const sizes = (await this.options.members.statuses())
      .map((m) => m.dbSizeInUseBytes ?? m.dbSizeBytes)
      .filter((size): size is number => size !== null);
    return sizes.length === 0 ? undefined : Math.max(...sizes);
  }

  private parsePolicy(text: string): RetentionPolicy {
    const parsed = retentionPolicySchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    this.options.log({
      level: 'warn',
      msg: 'bad retention policy; using the default',
      error: parsed.error.message,
    });
    return DEFAULT_RETENTION_POLICY;
  }

  private recordOp(term: LeadershipTerm, what: Record<string, unknown>) {
    const { clock, hostId } = this.options;
    const value = { ...what, by: hostId, fencingToken: term.fencingToken, at: isoTimestamp(clock) };
    return this.options.client.put(this.keys.maintenanceRecord()).value(JSON.stringify(value));
  }

  private record(term: LeadershipTerm, what: Record<string, unknown>) {
    return this.options.election.fencedTxn([this.recordOp(term, what)], term);
  }
}
