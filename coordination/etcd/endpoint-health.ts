/**
 * Which etcd members can serve this host right now, measured, and what follows from it:
 *  - routing: the host's main client skips a member that fails its probe (its circuit breaker is
 *    held open, so etcd3 picks another member for every new call and stream), and uses it again
 *    as soon as a probe succeeds. A member that is isolated from its peers or paused (SIGSTOP)
 *    accepts connections and never answers, so only a probe with a short deadline can tell;
 *    without one, each new call would wait out its whole deadline there first (issue 15 §4);
 *  - reachability: when no member has answered for `lostAfterMs` and two probe rounds in a row,
 *    the host has lost etcd, and the HTTP layer answers 503 at once instead of letting clients
 *    wait for deadlines (functions/middleware/etcd-reachability.ts). A successful call of the
 *    main client counts as an answer too, and this process's own stalls (a loaded machine) never
 *    count as etcd's silence: reachability-verdict.ts decides.
 *
 * A round starts every `intervalMs`, whether or not the previous one is still waiting out its
 * deadline, so a silent etcd fails rounds at a steady pace. Each round asks every member, each
 * through a client bound to that member alone:
 *  - a linearizable read of one key, for routing: it needs the Raft leader to confirm its
 *    leadership with a quorum (etcd's ReadIndex), so an isolated member fails it as a dead one
 *    would. Its answer is an answer for reachability too;
 *  - a Status call, for reachability, only when the member's last linearizable read failed or
 *    has not answered yet: the member answers Status locally, even while the cluster elects a
 *    leader. Reachability must not hang on the linearizable read, or an etcd election (every
 *    member without a leader for a second) would turn every host away at once, when waiting for
 *    the election is the faster way to the next commit. The first round of an election goes
 *    without it (one failed round; two in a row are needed to lose etcd), every later one has
 *    it. While reads answer, Status would only repeat them: sent every round, it was half of a
 *    host's background calls (docs/performance.md).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isBrokenCircuitError } from 'cockatiel';
import type { Etcd3 } from 'etcd3';
import type { EtcdEndpointRouting } from './endpoint-routing';
import { createEtcdClient, type EtcdTlsCredentials } from './etcd-client';
import { ReachabilityVerdict } from './reachability-verdict';

export interface EtcdEndpointHealthOptions {
  /** Client URLs of every member (as given to the main client). */
  endpoints: string[];
  /** Key read by the probe (need not exist; the host's etcd role must be allowed to read it). */
  probeKey: string;
  /** The main client's routing: steered by the probe, and its successful calls count as answers. */
  routing?: EtcdEndpointRouting;
  /** TLS credentials for the per-member probe clients. Default none. */
  tls?: EtcdTlsCredentials;
  /** Time between the starts of two probe rounds, ms. Default 200. */
  intervalMs?: number;
  /** Deadline of one probe, ms. Default 400. */
  probeDeadlineMs?: number;
  /** No member answered for this long (and for `failedRoundsToLose` rounds): etcd counts as lost, ms. Default 600. */
  lostAfterMs?: number;
  /** Probe rounds in a row without any answer needed to count etcd as lost. Default 2. */
  failedRoundsToLose?: number;
  /** Timer lateness past which this process counts as stalled, not etcd as silent, ms. Default 100. */
  lateToleranceMs?: number;
  /** Period of the timer that measures the event loop's lateness and judges reachability, ms. Default 50. */
  tickMs?: number;
  log?: (event: Record<string, unknown>) => void;
  /**
   * Makes the client that probes one member. Default: createEtcdClient bound to that member, one
   * attempt, `probeDeadlineMs` deadlines, `tls`. Tests pass fakes whose answers they script.
   */
  probeClient?: (url: string) => ProbeClient;
}

/** What a probe asks one member: a Status, and a linearizable read of one key. */
export type ProbeClient = {
  maintenance: Pick<Etcd3['maintenance'], 'status'>;
  get(key: string): { exec(): Promise<unknown> };
  close(): void;
};

/** Probe rounds in flight at once at most: beyond it, a round is skipped (the probes are hanging). */
const MAX_ROUNDS_IN_FLIGHT = 3;

export class EtcdEndpointHealth {
  private readonly options: Required<
    Omit<
      EtcdEndpointHealthOptions,
      'routing' | 'tls' | 'failedRoundsToLose' | 'lateToleranceMs' | 'probeClient'
    >
  > & { routing?: EtcdEndpointRouting };
  private readonly probes: Map<string, ProbeClient>;
  private readonly events = new EventEmitter();
  private readonly verdict: ReachabilityVerdict;
  private healthy = new Set<string>();
  private lost = false;
  private roundTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Lateness of this process's timers, summed since start (ms): what a round compares. */
  private stalledTotalMs = 0;
  private roundsStarted = 0;
  private lastRoutedRound = 0;
  private roundsInFlight = 0;
  /** Per member: whether its last linearizable read answered, and how many are still out. */
  private readonly reads: Map<string, { ok: boolean; pending: number }>;
  private offAnswers = () => {};
  private readonly lateToleranceMs: number;

  constructor({
    tls,
    intervalMs = 200,
    probeDeadlineMs = 400,
    lostAfterMs = 600,
    failedRoundsToLose = 2,
    lateToleranceMs = 100,
    tickMs = 50,
    log = () => {},
    probeClient,
    ...rest
  }: EtcdEndpointHealthOptions) {
    this.options = { intervalMs, probeDeadlineMs, lostAfterMs, tickMs, log, ...rest };
    this.lateToleranceMs = lateToleranceMs;
    this.verdict = new ReachabilityVerdict(performance.now(), {
      lostAfterMs,
      failedRoundsToLose,
      lateToleranceMs,
    });
    // Every request in progress on the ledger routes listens (etcd-reachability.ts): no limit.
    this.events.setMaxListeners(0);
    const makeProbe =
      probeClient ??
      ((url: string): ProbeClient =>
        createEtcdClient({
          endpoints: [url],
          attempts: 1,
          callDeadlineMs: probeDeadlineMs,
          dialTimeoutMs: probeDeadlineMs,
          tls,
        }));
    this.probes = new Map(rest.endpoints.map((url) => [url, makeProbe(url)]));
    this.reads = new Map(rest.endpoints.map((url) => [url, { ok: false, pending: 0 }]));
  }

  start(): void {
    this.markAnswer();
    this.offAnswers = this.options.routing?.onAnswer(() => this.markAnswer()) ?? (() => {});
    this.tick(performance.now());
    this.startRound(performance.now());
  }

  stop(): void {
    this.stopped = true;
    this.offAnswers();
    clearTimeout(this.roundTimer);
    clearTimeout(this.tickTimer);
    for (const c of this.probes.values()) c.close();
  }

  /** False once etcd counts as lost (reachability-verdict.ts); true again at the next answer. */
  reachable(): boolean {
    return !this.lost;
  }

  /** Calls `listener` when reachability changes; returns the unsubscribe. */
  onChange(listener: (reachable: boolean) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /**
   * Measures how late this timer fired (a stalled event loop: CPU starvation, a long GC), then
   * judges. Judging only here, after the lateness is recorded, means a stall is known before
   * the probe deadlines that expired during it are weighed.
   */
  private tick(due: number): void {
    if (this.stopped) return;
    const late = performance.now() - due;
    if (late > this.lateToleranceMs) this.stalledTotalMs += late;
    this.verdict.timerLate(late);
    this.judge();
    const next = performance.now() + this.options.tickMs;
    this.tickTimer = setTimeout(() => this.tick(next), this.options.tickMs);
    this.tickTimer.unref();
  }

  /** Starts a round now and schedules the next one `intervalMs` after this one was due. */
  private startRound(due: number): void {
    if (this.stopped) return;
    if (this.roundsInFlight < MAX_ROUNDS_IN_FLIGHT) void this.round();
    const next = Math.max(due + this.options.intervalMs, performance.now());
    this.roundTimer = setTimeout(() => this.startRound(next), next - performance.now());
    this.roundTimer.unref();
  }

  private async round(): Promise<void> {
    const id = ++this.roundsStarted;
    const started = performance.now();
    const stalledAtStart = this.stalledTotalMs;
    this.roundsInFlight++;
    let anyAnswered = false;
    let anyAsked = false;
    const results = await Promise.all(
      [...this.probes].map(async ([url, client]) => {
        const answered = () => {
          anyAnswered = true;
          this.markAnswer();
        };
        const refused = (error: unknown) => {
          // Refused by the probe client's own open breaker (after earlier failures, e.g. while
          // this process was starved): etcd was not asked, so its silence is not shown.
          if (!isBrokenCircuitError(error)) anyAsked = true;
        };
        const read = this.reads.get(url)!;
        const status =
          read.ok && read.pending === 0 ? undefined : client.maintenance.status().then(answered, refused);
        read.pending += 1;
        const linearizable = client
          .get(this.options.probeKey)
          .exec()
          .then(
            () => {
              answered();
              return true;
            },
            (error) => {
              refused(error);
              return false;
            },
          );
        const [, ok] = await Promise.all([status, linearizable]);
        read.pending -= 1;
        read.ok = ok;
        return [url, ok] as const;
      }),
    );
    this.roundsInFlight--;
    if (this.stopped) return;
    if (!anyAnswered && anyAsked) {
      // Late if the deadline itself fired late, or the event loop stalled while the round was out.
      const overrun = performance.now() - started - this.options.probeDeadlineMs;
      this.verdict.roundFailed(Math.max(overrun, this.stalledTotalMs - stalledAtStart));
    }
    // Rounds overlap; only a newer round than the last one applied steers routing.
    if (id < this.lastRoutedRound) return;
    this.lastRoutedRound = id;
    const healthy = new Set(results.filter(([, ok]) => ok).map(([url]) => url));
    if ([...healthy].join() !== [...this.healthy].join()) {
      this.options.log({ level: 'info', msg: 'etcd members answering', healthy: [...healthy].join(',') });
    }
    this.healthy = healthy;
    this.options.routing?.route(healthy);
  }

  private markAnswer(): void {
    this.verdict.answered(performance.now());
    this.judge();
  }

  private judge(): void {
    const lost = !this.stopped && this.verdict.lost(performance.now());
    if (lost === this.lost) return;
    this.lost = lost;
    this.options.log({
      level: lost ? 'warn' : 'info',
      msg: lost ? 'etcd unreachable: answering 503 at once' : 'etcd reachable again',
    });
    this.events.emit('change', !lost);
  }
}
