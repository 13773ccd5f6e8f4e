/**
 * Cristian's algorithm (F. Cristian, "Probabilistic clock synchronization", Distributed Computing
 * 3(3), 1989): ask the time master for its time T, measure the round trip RTT, and estimate the
 * master's clock at receipt as T + RTT/2, which is right within ±RTT/2 (T was read somewhere
 * inside the round trip). Of several samples the one with the smallest RTT has the tightest single
 * bound; intersecting all of them (coordination/clock-sync/clock-selection.ts) is tighter still.
 */
import type { HostClock } from '../clock/clock';
import { intersectSamples, type OffsetEstimate } from './clock-selection';
import type { TimePeer } from './time-peer';

export interface CristianResult {
  /** T + RTT/2 − local: what to add to the local clock. */
  offsetMs: number;
  /** The fastest sample's round trip, ms. */
  rttMs: number;
  /** ±(the samples' intersection, at most RTT/2, + the master's own error bound): the whole chain to the reference. */
  errorMs: number;
  /** Samples that answered. */
  samples: number;
}

export interface CristianOptions {
  clock: HostClock;
  peer: TimePeer;
  masterUrl: string;
  /** Samples to take, one after another. Default 5. */
  samples?: number;
}

/** Measures this host's offset from the master; throws when no sample answered. */
export async function measureOffset({
  clock,
  peer,
  masterUrl,
  samples = 5,
}: CristianOptions): Promise<CristianResult> {
  const estimates: OffsetEstimate[] = [];
  let rttMs = Number.POSITIVE_INFINITY;
  let masterErrorMs = 0;
  let lastError: unknown;
  for (let i = 0; i < samples; i++) {
    // The round trip is timed on this host's own raw clock: its drift (ppm) is negligible over one RTT.
    const sent = clock.raw();
    try {
      const { time, synced, estimateErrorMs } = await peer.readTime(masterUrl);
      const received = clock.raw();
      // A master that has not synchronized yet (to its reference, or in its first round) is not
      // copied: its clock would become the cluster's, whatever its error (issue 16).
      if (!synced || estimateErrorMs === null)
        throw new Error(`time master ${masterUrl} is not synchronized yet`);
      const rtt = received - sent;
      // Compared with where this clock is heading (targetNow), so a correction still slewing is not counted twice.
      estimates.push({ offsetMs: time + rtt / 2 - clock.targetNow(), errorMs: rtt / 2 });
      rttMs = Math.min(rttMs, rtt);
      masterErrorMs = Math.max(masterErrorMs, estimateErrorMs);
    } catch (error) {
      lastError = error;
    }
  }
  if (estimates.length === 0)
    throw new Error(`time master ${masterUrl} did not answer any of ${samples} samples`, {
      cause: lastError,
    });
  // The samples intersected (never looser than the fastest one's ±RTT/2), plus the master's own error.
  const { offsetMs, errorMs } = intersectSamples(estimates);
  return { offsetMs, rttMs, errorMs: errorMs + masterErrorMs, samples: estimates.length };
}

/** One Cristian synchronization: measure, then adjust the clock (it slews there). */
export async function cristianSync(options: CristianOptions): Promise<CristianResult> {
  const result = await measureOffset(options);
  options.clock.adjust(result.offsetMs, result.errorMs, 'cristian');
  return result;
}
