/**
 * How long a lease is surely still alive, judged from this side only: etcd renews a lease when it
 * receives a keepalive, so the lease lives at least until (the moment we *sent* the last keepalive
 * that was answered) + TTL. The etcd3 client's own `lost` event fires only after 2 × TTL without an
 * answer, long after another host may have taken over the lease's keys; this bound is what a
 * leader must use to stop its duties in time.
 *
 * Elapsed time is measured on the monotonic clock (performance.now), not the host's wall clock:
 * clock steps and clock synchronization must not stretch or shrink a lease.
 */
import { performance } from 'node:perf_hooks';
import type { Lease } from 'etcd3';

export interface LeaseValidityOptions {
  /** The lease's TTL in seconds, as granted. */
  ttlSeconds: number;
  /** Taken off the bound for scheduling delay and clock-rate drift, in ms. Default 250. */
  safetyMarginMs?: number;
  /** Called once when the bound passes without a renewal. */
  onExpiry?: () => void;
}

export class LeaseValidity {
  private validUntil: number;
  /** Send times of keepalives not yet answered, oldest first (answers come back in order). */
  private readonly inFlight: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly onExpiry: (() => void) | undefined;
  /** onExpiry was called for the current bound; a later answered keepalive clears it. */
  private expiryReported = false;
  private stopped = false;

  /** Call just before the lease is granted: the grant request's send time starts the first bound. */
  constructor(lease: Lease, { ttlSeconds, safetyMarginMs = 250, onExpiry }: LeaseValidityOptions) {
    this.ttlMs = ttlSeconds * 1000;
    this.marginMs = safetyMarginMs;
    this.onExpiry = onExpiry;
    this.validUntil = performance.now() + this.ttlMs - this.marginMs;
    lease.on('keepaliveFired', () => this.inFlight.push(performance.now()));
    lease.on('keepaliveSucceeded', () => {
      const sentAt = this.inFlight.shift();
      if (sentAt !== undefined && !this.stopped) this.extend(sentAt + this.ttlMs - this.marginMs);
    });
    // A broken stream drops its unanswered keepalives; the next stream starts a fresh queue.
    lease.on('keepaliveFailed', () => this.inFlight.splice(0));
    this.schedule();
  }

  /**
   * True while the lease is surely alive on the etcd side. After a gap it can become true again:
   * an answered keepalive proves the lease survived (etcd extends leases across its own leader
   * changes), so whoever needs the gap to be final (the leader) must stop() at the first expiry.
   */
  valid(): boolean {
    return !this.stopped && performance.now() < this.validUntil;
  }

  /** Milliseconds of certain validity left (0 once expired). */
  remainingMs(): number {
    return this.valid() ? this.validUntil - performance.now() : 0;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.stopped = true;
  }

  private extend(until: number): void {
    if (until <= this.validUntil) return;
    this.validUntil = until;
    this.expiryReported = false;
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), Math.max(0, this.validUntil - performance.now()));
    this.timer.unref();
  }

  private check(): void {
    if (this.stopped || this.expiryReported) return;
    if (performance.now() < this.validUntil) {
      this.schedule();
      return;
    }
    this.expiryReported = true;
    this.onExpiry?.();
  }
}
