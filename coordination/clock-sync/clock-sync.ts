/**
 * One host's part in clock synchronization, driven by the ClusterView:
 *  - the leader is the time master: every `roundIntervalMs` it samples its external reference
 *    when it has one (NTP, coordination/clock-sync/ntp-reference.ts) and slews its own clock to it,
 *    then runs a Berkeley round (coordination/clock-sync/berkeley.ts) that brings the other hosts to
 *    its time. When no reference answers, the round falls back to internal agreement (the
 *    fault-tolerant midpoint), the status says so (`timeSource()`: /cluster, /metrics), and the
 *    bound on the master's error against true time grows with the drift allowance since the last
 *    reference sample. A host that becomes leader keeps its clock as it is (it was being
 *    synchronized with everyone else), so the master changes without a jump;
 *  - any other host runs Cristian's algorithm (coordination/clock-sync/cristian.ts) against the leader when
 *    it joins (not synchronized yet) and whenever its error bound grows past `resyncErrorMs`,
 *    e.g. because Berkeley rounds stopped reaching it; a leader not synchronized itself is not
 *    copied (its clock would become the cluster's, whatever its error);
 *  - it accepts Berkeley adjustments only from the leader it knows, with a fencing token no
 *    older than the highest it has seen, so a deposed master cannot steer it;
 *  - readiness: a host whose clock may be more than `maxOffsetMs` from the cluster (not yet
 *    synchronized, or still slewing a large correction in) must not take payments, in the spirit
 *    of CockroachDB's --max-offset.
 */
import { StaleMasterError } from '../../ledger/errors';
import type { HostClock } from '../clock/clock';
import type { ClusterView } from '../cluster/cluster-view';
import type { RecordEvent } from '../events/event-types';
import { type BerkeleyRoundResult, berkeleyRound } from './berkeley';
import { cristianSync } from './cristian';
import type { ReferenceSample, TimeReference } from './ntp-reference';
import type { TimeAdjustment, TimePeer } from './time-peer';

export interface ClockSyncOptions {
  clock: HostClock;
  view: ClusterView;
  peer: TimePeer;
  /** Where leader changes and detected failures are reported. Default: nowhere. */
  record?: RecordEvent;
  /** Period of the master's Berkeley rounds, ms. Default 1000. */
  roundIntervalMs?: number;
  /** How often a host checks whether it must run Cristian's algorithm, ms. Default 200. */
  checkIntervalMs?: number;
  /** Cristian re-sync threshold on the clock's estimated error, ms. Default 25. */
  resyncErrorMs?: number;
  /** Samples per Cristian sync. Default 5. */
  cristianSamples?: number;
  /** The master's external reference (NTP servers). Default none: internal agreement only. */
  reference?: TimeReference;
  /** Largest offset from the cluster at which the host is ready, ms. Default 500. */
  maxOffsetMs?: number;
  /** Berkeley polls per host per round, the fastest counts. Default 3. */
  samplesPerHost?: number;
  /** A Berkeley reading slower than this round trip is not used, ms. Default 10. */
  maxRttMs?: number;
}

export interface ClockReadiness {
  ok: boolean;
  /** How far this clock may be from the cluster's, ms (null before the first sync). */
  offsetBoundMs: number | null;
  maxOffsetMs: number;
  reason?: string;
}

export interface TimeSourceStatus {
  source: 'reference' | 'internal' | 'master' | 'unsynchronized';
  /** The master's reference servers (configured on every host; used by whichever leads). */
  referenceServers: string[];
  /** The master's bound on its error against the reference, ms; null when not the master or never referenced. */
  referenceErrorBoundMs: number | null;
  /** Why the last reference sample failed, on the master. */
  referenceError?: string;
}

export class ClockSync {
  /** Counters for measurement and the status endpoint. */
  readonly stats = {
    rounds: 0,
    cristianSyncs: 0,
    cristianFailures: 0,
    lastRound: undefined as BerkeleyRoundResult | undefined,
    referenceSamples: 0,
    referenceFailures: 0,
    lastReference: undefined as ReferenceSample | undefined,
  };
  private readonly options: Required<Omit<ClockSyncOptions, 'record' | 'reference'>> & {
    record: RecordEvent;
    reference: TimeReference | undefined;
  };
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private round = 0;
  private lastRoundRaw = Number.NEGATIVE_INFINITY;
  private knownLeader: string | undefined;
  private knownHosts = new Set<string>();
  private unreachable = new Set<string>();
  private readonly answered = new Set<string>();
  /** Highest master fencing token seen (issue 15 §6). */
  private highestToken = 0n;
  /** Whether the last reference sample succeeded, and its raw time and error. */
  private referenced = false;
  private lastReferenceRaw: number | undefined;
  private lastReferenceErrorMs = Number.POSITIVE_INFINITY;
  private referenceError: string | undefined;
  /** Whether the last Berkeley adjustment this host took came from a referenced master. */
  private followingReference = false;
  private unsubscribe: (() => void) | undefined;

  constructor({
    roundIntervalMs = 1000,
    checkIntervalMs = 200,
    resyncErrorMs = 25,
    cristianSamples = 5,
    maxOffsetMs = 500,
    samplesPerHost = 3,
    maxRttMs = 10,
    record = () => {},
    reference,
    ...required
  }: ClockSyncOptions) {
    this.options = {
      ...required,
      roundIntervalMs,
      checkIntervalMs,
      resyncErrorMs,
      cristianSamples,
      maxOffsetMs,
      samplesPerHost,
      maxRttMs,
      record,
      reference,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.observeView();
    this.unsubscribe = this.options.view.onChange(() => this.observeView());
    void this.loop();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  /**
   * Applies an adjustment from `POST /time/adjust`. Throws StaleMasterError if it is not from the
   * leader this host knows, or if its fencing token is older than the highest seen, in an
   * adjustment or as the leader's token in this host's view: the fencing-token rule of leases
   * (Kleppmann, "How to do distributed locking", 2016), applied to the clock. A token newer than
   * the view's is accepted (the view may lag the leader's re-election); that `master` is the
   * sender itself is checked by the HTTP handler, against the sender's host key.
   */
  handleAdjustment(adjustment: TimeAdjustment): void {
    const leader = this.options.view.leader();
    if (leader) this.highestToken = maxToken(this.highestToken, BigInt(leader.fencingToken));
    const token = BigInt(adjustment.fencingToken);
    if (leader?.id !== adjustment.master || token < this.highestToken) {
      throw new StaleMasterError(
        `${adjustment.master} (token ${token})`,
        leader && `${leader.id} (token ${this.highestToken} or newer)`,
      );
    }
    this.highestToken = token;
    const { clock } = this.options;
    // Two readings in a row against the reference: intersected (HostClock.refine), so one slow
    // round's loose reading does not widen the bound a fast one gave.
    if (adjustment.referenced && this.followingReference)
      clock.refine(adjustment.deltaMs, adjustment.errorMs, 'berkeley');
    else clock.adjust(adjustment.deltaMs, adjustment.errorMs, 'berkeley');
    this.followingReference = adjustment.referenced === true;
  }

  readiness(): ClockReadiness {
    const { clock, maxOffsetMs } = this.options;
    if (!clock.synced)
      return { ok: false, offsetBoundMs: null, maxOffsetMs, reason: 'clock not yet synchronized' };
    const offsetBoundMs = clock.errorBoundMs();
    if (offsetBoundMs > maxOffsetMs) {
      return {
        ok: false,
        offsetBoundMs,
        maxOffsetMs,
        reason: `clock may be ${Math.round(offsetBoundMs)} ms off the cluster`,
      };
    }
    return { ok: true, offsetBoundMs, maxOffsetMs };
  }

  /** One step: the master's round when due, or a follower's Cristian sync when needed. */
  async step(): Promise<void> {
    const { view, clock } = this.options;
    if (view.isLeader()) {
      if (clock.raw() - this.lastRoundRaw >= this.options.roundIntervalMs) {
        this.lastRoundRaw = clock.raw();
        await this.sampleReference();
        await this.runRound();
      }
      return;
    }
    this.referenced = false;
    const leader = view.leader();
    const needed = !clock.synced || clock.estimateErrorMs() > this.options.resyncErrorMs;
    if (leader && leader.id !== view.selfId && needed) {
      try {
        await cristianSync({
          clock,
          peer: this.options.peer,
          masterUrl: leader.url,
          samples: this.options.cristianSamples,
        });
        this.stats.cristianSyncs += 1;
      } catch {
        this.stats.cristianFailures += 1;
      }
    }
  }

  private async loop(): Promise<void> {
    if (!this.running) return;
    try {
      await this.step();
    } finally {
      if (this.running) this.timer = setTimeout(() => void this.loop(), this.options.checkIntervalMs);
    }
  }

  /**
   * Where this host's time comes from: `reference` (the master, disciplined by its reference),
   * `internal` (the master without a reachable reference: internal agreement), `master` (this
   * host, following the master), or `unsynchronized`. With the bound on the error against true
   * time when this host is the master and has sampled a reference at least once: the last
   * sample's error plus the drift allowance since, plus what is still to slew in.
   */
  timeSource(): TimeSourceStatus {
    const { view, clock, reference } = this.options;
    const leads = view.isLeader();
    const source = leads
      ? this.referenced
        ? 'reference'
        : 'internal'
      : clock.synced
        ? 'master'
        : 'unsynchronized';
    const referenceErrorBoundMs =
      leads && this.lastReferenceRaw !== undefined
        ? this.lastReferenceErrorMs +
          (Math.abs(clock.raw() - this.lastReferenceRaw) * clock.maxDriftPpm) / 1e6 +
          Math.abs(clock.pendingMs())
        : null;
    return {
      source,
      referenceServers: reference?.servers ?? [],
      referenceErrorBoundMs,
      ...(leads && this.referenceError ? { referenceError: this.referenceError } : {}),
    };
  }

  /**
   * The master's external synchronization: slews its clock to the reference. No dead band here:
   * each sample is against the same absolute reference, so its noise does not accumulate as a
   * chain of relative corrections would.
   */
  private async sampleReference(): Promise<void> {
    const { reference, clock } = this.options;
    if (!reference) return;
    try {
      const sample = await reference.sample(clock);
      // Consecutive samples of the reference are intersected (HostClock.refine: NTP's clock
      // filter); the first after internal agreement or following another master is taken whole.
      if (this.referenced) clock.refine(sample.offsetMs, sample.errorMs, 'reference');
      else clock.adjust(sample.offsetMs, sample.errorMs, 'reference');
      this.referenced = true;
      this.lastReferenceRaw = clock.raw();
      this.lastReferenceErrorMs = clock.estimateErrorMs();
      this.referenceError = undefined;
      this.stats.referenceSamples += 1;
      this.stats.lastReference = sample;
    } catch (error) {
      if (this.referenced) this.options.record('failure.detected', { peer: 'reference', by: 'clock-sync' });
      this.referenced = false;
      this.referenceError = error instanceof Error ? error.message : String(error);
      this.stats.referenceFailures += 1;
    }
  }

  private async runRound(): Promise<void> {
    const { view, clock, peer, samplesPerHost, maxRttMs } = this.options;
    this.round += 1;
    const result = await berkeleyRound({
      clock,
      peer,
      selfId: view.selfId,
      hosts: view.liveHosts(),
      round: this.round,
      fencingToken: view.leader()?.fencingToken ?? '0',
      referenced: this.referenced,
      samplesPerHost,
      maxRttMs,
    });
    this.stats.rounds += 1;
    this.stats.lastRound = result;
    for (const reading of result.readings) this.answered.add(reading.host);
    // A host that has never answered is still starting, not failed.
    for (const id of result.failed) {
      if (this.answered.has(id) && !this.unreachable.has(id)) {
        this.options.record('failure.detected', { peer: id, by: 'clock-sync' });
      }
    }
    this.unreachable = new Set(result.failed);
  }

  /** Reports leader changes and hosts that left the live set. */
  private observeView(): void {
    const { view, record } = this.options;
    const leader = view.leader()?.id;
    if (leader !== this.knownLeader) {
      record('leader.changed', { from: this.knownLeader ?? '', to: leader ?? '' });
      this.knownLeader = leader;
    }
    const live = new Set(view.liveHosts().map((h) => h.id));
    for (const id of this.knownHosts)
      if (!live.has(id)) record('failure.detected', { peer: id, by: 'membership' });
    this.knownHosts = live;
  }
}

const maxToken = (a: bigint, b: bigint): bigint => (a > b ? a : b);
