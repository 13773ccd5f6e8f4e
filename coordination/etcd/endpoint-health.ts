/**
 * Which etcd members can serve this host right now, measured, and what follows from it:
 *  - routing: the host's main client skips a member that fails its probe (its circuit breaker is
 *    held open, so etcd3 picks another member for every new call and stream), and uses it again
 *    as soon as a probe succeeds. A member that is isolated from its peers or paused (SIGSTOP)
 *    accepts connections and never answers, so only a probe with a short deadline can tell;
 *    without one, each new call would wait out its whole deadline there first (issue 15 §4);
 *  - reachability: when no member has answered for `lostAfterMs`, the host has lost etcd, and
 *    the HTTP layer answers 503 at once instead of letting clients wait for deadlines
 *    (functions/middleware/etcd-reachability.ts).
 *
 * Each round asks every member two things, each through a client bound to that member alone:
 *  - a linearizable read of one key, for routing: it needs the Raft leader to confirm its
 *    leadership with a quorum (etcd's ReadIndex), so an isolated member fails it as a dead one
 *    would;
 *  - a Status call, for reachability: the member answers it locally, even while the cluster
 *    elects a leader. Reachability must not hang on the linearizable read, or an etcd election
 *    (every member without a leader for a second) would turn every host away at once, when
 *    waiting for the election is the faster way to the next commit.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import type { EtcdEndpointRouting } from './endpoint-routing';
import { createEtcdClient, type EtcdTlsCredentials } from './etcd-client';

export interface EtcdEndpointHealthOptions {
  /** Client URLs of every member (as given to the main client). */
  endpoints: string[];
  /** Key read by the probe (need not exist; the host's etcd role must be allowed to read it). */
  probeKey: string;
  routing?: EtcdEndpointRouting;
  /** TLS credentials for the per-member probe clients. Default none. */
  tls?: EtcdTlsCredentials;
  /** Pause between probe rounds, ms. Default 200. */
  intervalMs?: number;
  /** Deadline of one probe, ms. Default 400. */
  probeDeadlineMs?: number;
  /** No member answered for this long: etcd counts as lost, ms. Default 600. */
  lostAfterMs?: number;
  log?: (event: Record<string, unknown>) => void;
}

export class EtcdEndpointHealth {
  private readonly options: Required<Omit<EtcdEndpointHealthOptions, 'routing' | 'tls'>> & {
    routing?: EtcdEndpointRouting;
  };
  private readonly probes: Map<string, Etcd3>;
  private readonly events = new EventEmitter();
  private healthy = new Set<string>();
  private lastAnswer = performance.now();
  private lost = false;
  private timer: NodeJS.Timeout | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor({
    tls,
    intervalMs = 200,
    probeDeadlineMs = 400,
    lostAfterMs = 600,
    log = () => {},
    ...rest
  }: EtcdEndpointHealthOptions) {
    this.options = { intervalMs, probeDeadlineMs, lostAfterMs, log, ...rest };
    // Every request in progress on the ledger routes listens (etcd-reachability.ts): no limit.
    this.events.setMaxListeners(0);
    this.probes = new Map(
      rest.endpoints.map((url) => [
        url,
        createEtcdClient({
          endpoints: [url],
          attempts: 1,
          callDeadlineMs: probeDeadlineMs,
          dialTimeoutMs: probeDeadlineMs,
          tls,
        }),
      ]),
    );
  }

  start(): void {
    this.markAnswer();
    void this.round();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.lostTimer);
    for (const c of this.probes.values()) c.close();
  }

  /** False once no member has answered a probe for `lostAfterMs`; true again at the next answer. */
  reachable(): boolean {
    return !this.lost;
  }

  /** Calls `listener` when reachability changes; returns the unsubscribe. */
  onChange(listener: (reachable: boolean) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const started = performance.now();
    // Probes run in parallel; reachability is judged as soon as any answers, or at the deadline.
    const results = await Promise.all(
      [...this.probes].map(async ([url, client]) => {
        const answered = client.maintenance.status().then(
          () => this.markAnswer(),
          () => undefined,
        );
        const linearizable = client
          .get(this.options.probeKey)
          .exec()
          .then(
            () => true,
            () => false,
          );
        const [, ok] = await Promise.all([answered, linearizable]);
        return [url, ok] as const;
      }),
    );
    if (this.stopped) return;
    const healthy = new Set(results.filter(([, ok]) => ok).map(([url]) => url));
    if ([...healthy].join() !== [...this.healthy].join()) {
      this.options.log({ level: 'info', msg: 'etcd members answering', healthy: [...healthy].join(',') });
    }
    this.healthy = healthy;
    this.options.routing?.route(healthy);
    const wait = Math.max(0, this.options.intervalMs - (performance.now() - started));
    this.timer = setTimeout(() => void this.round(), wait);
    this.timer.unref();
  }

  /** Each answer restarts the countdown to `lost`, so loss is noticed on time, not at a round's end. */
  private markAnswer(): void {
    this.lastAnswer = performance.now();
    this.judge();
    clearTimeout(this.lostTimer);
    this.lostTimer = setTimeout(() => this.judge(), this.options.lostAfterMs + 1);
    this.lostTimer.unref();
  }

  private judge(): void {
    const lost = !this.stopped && performance.now() - this.lastAnswer > this.options.lostAfterMs;
    if (lost === this.lost) return;
    this.lost = lost;
    this.options.log({
      level: lost ? 'warn' : 'info',
      msg: lost ? 'etcd unreachable: answering 503 at once' : 'etcd reachable again',
    });
    this.events.emit('change', !lost);
  }
}
