/**
 * The host's main etcd client's routing state: each member's circuit breaker and the calls in
 * flight on it. The health probe (endpoint-health.ts) opens a silent member's breaker, so etcd3
 * sends new calls elsewhere, and gives up the calls stuck there (issue 15 §4). Apart from the
 * probe so that the client factory (etcd-client.ts) can take it without importing the probe.
 */
import { type CircuitBreakerPolicy, CircuitState } from 'cockatiel';
import { GRPCUnavailableError } from 'etcd3';

/**
 * Holds the main client's per-member circuit breakers, so health can open and close them, and
 * the calls in flight on each member, so the ones on a member found unhealthy can be given up.
 */
export class EtcdEndpointRouting {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly isolated = new Map<string, { dispose(): void }>();
  private readonly inFlight = new Map<string, Set<(error: Error) => void>>();
  private readonly answerListeners = new Set<() => void>();

  /**
   * Calls `listener` whenever a unary call of the main client succeeds on some member: the
   * cheapest and strongest evidence that etcd answers this host (endpoint-health.ts). Opening a
   * stream (watch, lease keep-alive) is not: etcd3 resolves it locally, before any answer, and a
   * host cut off from etcd keeps reopening its watches. Returns the unsubscribe.
   */
  onAnswer(listener: () => void): () => void {
    this.answerListeners.add(listener);
    return () => this.answerListeners.delete(listener);
  }

  /**
   * Called by createEtcdClient with each member's breaker (its `host` fault-handling policy, which
   * etcd3 runs every call on that member through). Calls are tracked so that `route` can give up
   * the ones on a member that stops answering: each fails with a recoverable error, and the
   * client's retry policy sends it to another member at once instead of after its deadline. The
   * abandoned call may still complete on etcd, exactly as after a deadline; the ledger's commit
   * recognises its own earlier commit by its nonce (ledger/etcd/etcd-ledger.ts).
   */
  register(endpoint: string, breaker: CircuitBreakerPolicy): CircuitBreakerPolicy {
    this.breakers.set(endpoint, breaker);
    const calls = new Set<(error: Error) => void>();
    this.inFlight.set(endpoint, calls);
    const execute = breaker.execute.bind(breaker);
    breaker.execute = ((fn, signal) =>
      new Promise((resolve, reject) => {
        calls.add(reject);
        execute(fn, signal)
          .then((value) => {
            if (!isStream(value)) for (const listener of this.answerListeners) listener();
            resolve(value);
          }, reject)
          .finally(() => calls.delete(reject));
      })) as CircuitBreakerPolicy['execute'];
    return breaker;
  }

  /**
   * Routes calls away from the unhealthy members, the ones in flight included, and back to the
   * healthy ones. When none is healthy nothing is held open: calls then try every member as usual
   * (and fail on their deadlines).
   */
  route(healthy: ReadonlySet<string>): void {
    const anyHealthy = [...this.breakers.keys()].some((e) => healthy.has(e));
    for (const [endpoint, breaker] of this.breakers) {
      const skip = anyHealthy && !healthy.has(endpoint);
      const held = this.isolated.get(endpoint);
      if (skip && !held) {
        this.isolated.set(endpoint, breaker.isolate());
        const abandon = new GRPCUnavailableError(`etcd member ${endpoint} failed its health probe`);
        for (const reject of this.inFlight.get(endpoint) ?? []) reject(abandon);
      }
      if (!skip && held) {
        held.dispose();
        this.isolated.delete(endpoint);
      }
      // A member that just passed its probe is used again at once, even if the breaker opened on
      // its own failures (while the member was down) and would wait out its cool-down: after each
      // member in turn was killed and restarted, every breaker was open for a moment while etcd was
      // fine, and the host answered 503 (watch-compaction test). Isolating and releasing closes it.
      if (healthy.has(endpoint) && breaker.state === CircuitState.Open) breaker.isolate().dispose();
    }
  }
}

/** A stream etcd3 opened (a grpc duplex stream), as opposed to a unary call's answer. */
function isStream(value: unknown): boolean {
  return typeof (value as { on?: unknown } | null)?.on === 'function';
}
