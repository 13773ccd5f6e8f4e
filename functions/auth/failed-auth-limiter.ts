/**
 * Failed authentications per client address on one host, counted in one-second windows by
 * rate-limiter-flexible (issue 17 §1). Every 401 counts against its address; once an address is
 * over its limit, a request from it that would have to read a key record from etcd (a key id not
 * in the authenticator's cache) is refused with 429 before that read. A flood of made-up key ids
 * thus costs etcd at most `perSecond` reads a second per address, and keys already verified (in
 * the cache) keep working from the same address.
 *
 * The address is the TCP peer's. Behind a proxy every client shares the proxy's address, so there
 * the limit is per proxy: give it a higher limit or have the proxy limit failures itself.
 */
import type { Context } from 'hono';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimitedError } from '../http-errors';

export interface FailedAuthLimiterOptions {
  /** Failed authentications per second per client address before key reads are refused. 0 = no limit. Default 20. */
  failedAuthPerAddressPerSecond?: number;
}

export class FailedAuthLimiter {
  private readonly limiter: RateLimiterMemory | undefined;
  private readonly perSecond: number;

  constructor({ failedAuthPerAddressPerSecond = 20 }: FailedAuthLimiterOptions = {}) {
    this.perSecond = failedAuthPerAddressPerSecond;
    this.limiter =
      failedAuthPerAddressPerSecond > 0
        ? new RateLimiterMemory({ points: failedAuthPerAddressPerSecond, duration: 1 })
        : undefined;
  }

  /** Throws RateLimitedError (429 + Retry-After) while `address` is over its limit. */
  async check(address: string): Promise<void> {
    const state = await this.limiter?.get(address);
    if (state && state.consumedPoints >= this.perSecond) {
      throw new RateLimitedError(
        this.perSecond,
        Math.max(1, Math.ceil(state.msBeforeNext / 1000)),
        'failed authentications from this address: limit',
      );
    }
  }

  /** Counts one failed authentication from `address`. */
  async failed(address: string): Promise<void> {
    await this.limiter?.penalty(address, 1);
  }
}

/** The TCP peer's address on a Node host; one shared bucket where there is none (in-process tests). */
export function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'unknown';
}
