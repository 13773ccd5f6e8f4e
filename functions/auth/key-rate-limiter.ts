/**
 * Per-API-key request rate limits on one host, counted in one-second windows by
 * rate-limiter-flexible. A key's own `rateLimitPerSecond` wins over the host default; 0 means
 * unlimited. The limit is per host: behind a balancer over N hosts a key gets up to N times it,
 * which docs/security.md states.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../http-errors';
import type { Principal } from './api-key-record';

export interface KeyRateLimiterOptions {
  /** Requests per second per key on this host, for keys that set none. 0 = unlimited. Default 1000. */
  defaultPerSecond?: number;
}

export class KeyRateLimiter {
  /** One limiter per distinct limit, since rate-limiter-flexible fixes `points` per instance. */
  private readonly limiters = new Map<number, RateLimiterMemory>();
  private readonly defaultPerSecond: number;

  constructor({ defaultPerSecond = 1000 }: KeyRateLimiterOptions = {}) {
    this.defaultPerSecond = defaultPerSecond;
  }

  /** Counts one request; throws RateLimitedError (429 + Retry-After) past the key's limit. */
  async consume(principal: Principal): Promise<void> {
    const limit = principal.rateLimitPerSecond ?? this.defaultPerSecond;
    if (limit === 0) return;
    let limiter = this.limiters.get(limit);
    if (!limiter) {
      limiter = new RateLimiterMemory({ points: limit, duration: 1 });
      this.limiters.set(limit, limiter);
    }
    try {
      await limiter.consume(principal.keyId);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new RateLimitedError(limit, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
  }
}
