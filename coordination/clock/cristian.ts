/**
 * Cristian's algorithm (F. Cristian, "Probabilistic clock synchronization", Distributed Computing
 * 3(3), 1989): ask the time master for its time T, measure the round trip RTT, and estimate the
 * master's clock at receipt as T + RTT/2, which is right within ±RTT/2 (T was read somewhere
 * inside the round trip). Of several samples the one with the smallest RTT has the tightest bound.
 */
import type { HostClock } from './clock';
import type { TimePeer } from './time-peer';

export interface CristianResult {
  /** T + RTT/2 − local: what to add to the local clock. */
  offsetMs: number;
  /** The chosen sample's round trip, ms. */
  rttMs: number;
  /** ±(RTT/2 + the master's own error bound): the whole chain to the cluster's reference. */
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
  let best: { offsetMs: number; rttMs: number; masterErrorMs: number } | undefined;
  let answered = 0;
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
      const rttMs = received - sent;
      // Compared with where this clock is heading (targetNow), so a correction still slewing is not counted twice.
      const offsetMs = time + rttMs / 2 - clock.targetNow();
      answered += 1;
      if (!best || rttMs < best.rttMs) best = { offsetMs, rttMs, masterErrorMs: estimateErrorMs };
    } catch (error) {
      lastError = error;
    }
  }
  if (!best)
    throw new Error(`time master ${masterUrl} did not answer any of ${samples} samples`, {
      cause: lastError,
    });
  const { offsetMs, rttMs, masterErrorMs } = best;
  return { offsetMs, rttMs, errorMs: rttMs / 2 + masterErrorMs, samples: answered };
}

/** One Cristian synchronization: measure, then adjust the clock (it slews there). */
export async function cristianSync(options: CristianOptions): Promise<CristianResult> {
  const result = await measureOffset(options);
  options.clock.adjust(result.offsetMs, result.errorMs, 'cristian');
  return result;
}
