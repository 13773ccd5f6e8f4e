/**
 * Network delay in user space, for the relays on loopback (this kernel has no `netem`): a delay
 * per direction with jitter and loss, drawn from a seeded generator so that a run can be
 * repeated. Used by the TCP link proxy (dev/chaos/link-proxy.ts, HTTP between hosts) and the UDP
 * relay (dev/chaos/udp-relay.ts, NTP from the master to its reference).
 *
 * TCP cannot lose bytes: a lost segment is sent again after the retransmission timeout, so on a
 * TCP link a loss shows as `retransmitMs` more delay, and bytes are released in order (a delayed
 * chunk holds back the ones after it, as TCP's in-order delivery does).
 */
import type { Socket } from 'node:net';

/** One direction of a link. */
export interface LinkDelay {
  /** Mean one-way delay, ms. */
  delayMs: number;
  /** Uniform jitter: each packet's delay is delayMs ± jitterMs (never below 0), ms. Default 0. */
  jitterMs?: number;
  /** Probability that a packet is lost, 0 to 1. Default 0. */
  loss?: number;
}

/** A link's two directions: `forward` from the client to the target, `back` the answers. */
export interface LinkDelays {
  forward: LinkDelay;
  back: LinkDelay;
  /** Seed of the generator, so a run repeats. Default 1. */
  seed?: number;
  /** Extra delay of a lost TCP segment (its retransmission), ms. Default 200, Linux's minimum RTO. */
  retransmitMs?: number;
}

/** One packet's delay, ms, or undefined when it is lost. */
export function sampleDelayMs(
  { delayMs, jitterMs = 0, loss = 0 }: LinkDelay,
  random: () => number,
): number | undefined {
  if (loss > 0 && random() < loss) return undefined;
  return Math.max(0, delayMs + (random() * 2 - 1) * jitterMs);
}

/**
 * Pipes `from` into `to` with `delay` on every chunk, in order; a lost chunk arrives
 * `retransmitMs` later. Without a delay this is `from.pipe(to)`.
 */
export function pipeDelayed(
  from: Socket,
  to: Socket,
  delay: LinkDelay | undefined,
  random: () => number,
  retransmitMs = 200,
): void {
  if (!delay) {
    from.pipe(to);
    return;
  }
  let releaseAt = 0;
  let pending = 0;
  let ended = false;
  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    const wait = sampleDelayMs(delay, random) ?? delay.delayMs + retransmitMs;
    releaseAt = Math.max(releaseAt, now + wait);
    pending += 1;
    setTimeout(() => {
      pending -= 1;
      if (!to.destroyed) to.write(chunk);
      if (ended && pending === 0) to.end();
    }, releaseAt - now);
  });
  from.on('end', () => {
    ended = true;
    if (pending === 0) to.end();
  });
}
