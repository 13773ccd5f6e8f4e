/**
 * The Berkeley algorithm (R. Gusella, S. Zatti, "The accuracy of the clock synchronization
 * achieved by TEMPO in Berkeley UNIX 4.3BSD", IEEE TSE 15(7), 1989), run by the time master:
 *  1. poll every live host's clock, and estimate its offset from the master's with RTT
 *     compensation: offset = T + RTT/2 − master's clock at receipt. RTT/2 is only right when
 *     both legs take as long; a slow round trip is likely lopsided (a stalled event loop, a
 *     retransmission), so each host is polled `samplesPerHost` times, the fastest sample is
 *     kept (as in Cristian's algorithm), and a host whose fastest RTT still exceeds `maxRttMs`
 *     sits this round out;
 *  2. choose the cluster's time, by a rule that does not depend on which host leads (issue 16):
 *     - while the master's clock is disciplined by an external reference (NTP, coordination/clock/
 *       ntp-reference.ts), the master's time is the reference's, and every other host is brought
 *       to it: external synchronization at the master, internal among the hosts. A host far off
 *       is corrected; it has no vote that could pull the cluster away from the reference;
 *     - without a reference, Welch and Lynch's fault-tolerant midpoint of the readings
 *       (coordination/clock-sync/clock-selection.ts), the master's own counting like any other. Hosts
 *       synchronized within `maxVoterErrorMs` vote; when none is (a cold start), all do, and the
 *       round waits until every live host has answered;
 *  3. send every host (outliers too) the adjustment that brings it to that time; without a
 *     reference the master adjusts itself as well. Hosts slew (coordination/clock/clock.ts), so
 *     nothing steps back. An adjustment smaller than its reading's error (±RTT/2) is sent as 0
 *     (a dead band) while there is no reference. The error sent is the reading's RTT/2 plus the
 *     master's own error plus the drift allowance over the reading's age, so a host's bound covers
 *     the whole chain to the reference; referenced, hosts intersect it with what they know
 *     (HostClock.refine).
 */

import type { HostClock } from '../clock/clock';
import type { HostInfo } from '../cluster/cluster-view';
import { faultTolerantMidpoint, intersectSamples, type OffsetEstimate } from './clock-selection';
import type { TimePeer } from './time-peer';

export interface BerkeleyReading {
  host: string;
  offsetMs: number;
  rttMs: number;
  included: boolean;
  /** Adjustment sent (or applied, for the master). */
  deltaMs: number;
}

export interface BerkeleyRoundResult {
  round: number;
  averageMs: number;
  readings: BerkeleyReading[];
  /** Hosts that did not answer the poll or the adjustment. */
  failed: string[];
  /** Hosts left out of this round because no reading was fast enough. */
  skipped: string[];
  // averageMs is NaN and readings empty when a cold start waited for more hosts (step 2).
}

export interface BerkeleyRoundOptions {
  clock: HostClock;
  peer: TimePeer;
  /** The master's own id; its reading is taken locally (offset 0, RTT 0). */
  selfId: string;
  /** Live hosts, the master included or not. */
  hosts: HostInfo[];
  round: number;
  /** The master's fencing token, sent with every adjustment (coordination/clock/time-peer.ts). */
  fencingToken: string;
  /**
   * True while the master's clock is disciplined by its external reference (step 2). Default
   * false: internal agreement only.
   */
  referenced?: boolean;
  /** Polls per host per round; the fastest counts. Default 3. */
  samplesPerHost?: number;
  /** A host whose fastest RTT is above this sits the round out, ms. Default 10. */
  maxRttMs?: number;
  /** A host whose own estimate of its error is above this does not vote, ms. Default 5. */
  maxVoterErrorMs?: number;
}

/**
 * `samples` polls of one host, combined by `intersectSamples` (never looser than the fastest
 * poll's ±RTT/2); undefined when none answered. `rttMs` is the fastest round trip.
 */
async function pollHost(
  clock: HostClock,
  peer: TimePeer,
  host: HostInfo,
  samples: number,
  maxVoterErrorMs: number,
) {
  const estimates: OffsetEstimate[] = [];
  let rttMs = Number.POSITIVE_INFINITY;
  let synced = false;
  let sampledRaw = Number.NaN;
  for (let i = 0; i < samples; i++) {
    const sent = clock.raw();
    try {
      const reading = await peer.readTime(host.url);
      const rtt = clock.raw() - sent;
      estimates.push({ offsetMs: reading.time + rtt / 2 - clock.targetNow(), errorMs: rtt / 2 });
      if (Number.isNaN(sampledRaw)) sampledRaw = sent;
      if (rtt < rttMs) {
        rttMs = rtt;
        synced = reading.estimateErrorMs !== null && reading.estimateErrorMs <= maxVoterErrorMs;
      }
    } catch {
      // a lost sample; the others may do
    }
  }
  if (estimates.length === 0) return undefined;
  // sampledRaw: the first answered sample's send time, the oldest the intersection rests on.
  return { host, rttMs, synced, sampledRaw, ...intersectSamples(estimates) };
}

/** One round, steps 1 to 3 above. */
export async function berkeleyRound({
  clock,
  peer,
  selfId,
  hosts,
  round,
  fencingToken,
  referenced = false,
  samplesPerHost = 3,
  maxRttMs = 10,
  maxVoterErrorMs = 5,
}: BerkeleyRoundOptions): Promise<BerkeleyRoundResult> {
  const others = hosts.filter((h) => h.id !== selfId);
  const failed: string[] = [];
  const skipped: string[] = [];
  const polled = await Promise.all(
    others.map((host) => pollHost(clock, peer, host, samplesPerHost, maxVoterErrorMs)),
  );
  const usable: NonNullable<(typeof polled)[number]>[] = [];
  polled.forEach((reading, i) => {
    if (!reading) failed.push(others[i]!.id);
    else if (reading.rttMs > maxRttMs) skipped.push(reading.host.id);
    else usable.push(reading);
  });
  const masterErrorMs = clock.synced ? clock.estimateErrorMs() : 0;
  const readings = [
    {
      host: { id: selfId, url: '', since: '' },
      offsetMs: 0,
      rttMs: 0,
      errorMs: 0,
      sampledRaw: clock.raw(),
      synced: clock.synced && clock.estimateErrorMs() <= maxVoterErrorMs,
    },
    ...usable,
  ];
  // A cold start without a reference (no clock synchronized yet) waits for a reading from every
  // live host: chosen among fewer, and the master alone when the others' first polls are slow, the
  // cluster's time would again be whichever clock leads.
  const live = new Set([selfId, ...hosts.map((h) => h.id)]).size;
  if (!referenced && !readings.some((r) => r.synced) && readings.length < live) {
    return { round, averageMs: Number.NaN, readings: [], failed, skipped };
  }
  const { averageMs, included } = chooseClusterTime(readings, referenced);
  const averagedErrors = readings.filter((_, i) => included[i]).map((r) => r.errorMs);
  const results = await Promise.all(
    readings.map(async (reading, i): Promise<BerkeleyReading | undefined> => {
      const self = reading.host.id === selfId;
      // The master's own error against the chosen time is about the mean error of what chose it.
      const measurementErrorMs = self
        ? averagedErrors.reduce((s, e) => s + e, 0) / Math.max(1, averagedErrors.length)
        : reading.errorMs;
      // A correction within its own measurement error is noise: applying it would only make the
      // cluster's time random-walk round after round. The adjustment is still sent (as 0), to
      // refresh the host's error bound.
      // Referenced, every measurement is against the same absolute time and the host intersects it
      // with what it knows (HostClock.refine): no random walk to fear, so no dead band.
      const measured = averageMs - reading.offsetMs;
      const deltaMs = !referenced && Math.abs(measured) <= measurementErrorMs ? 0 : measured;
      const base = {
        host: reading.host.id,
        offsetMs: reading.offsetMs,
        rttMs: reading.rttMs,
        included: included[i]!,
        deltaMs,
      };
      if (self) {
        // Referenced, the master's clock was set against the reference, not by this round.
        if (!referenced) clock.adjust(deltaMs, measurementErrorMs, 'berkeley');
        return base;
      }
      try {
        // Both clocks may drift apart between the reading and its adjustment's arrival (the
        // polls of a round take a while over slow links): the bound covers that age too.
        const ageMs = Math.max(0, clock.raw() - reading.sampledRaw);
        await peer.sendAdjustment(reading.host.url, {
          master: selfId,
          deltaMs,
          errorMs: measurementErrorMs + masterErrorMs + (ageMs * 2 * clock.maxDriftPpm) / 1e6,
          round,
          fencingToken,
          referenced,
        });
        return base;
      } catch {
        failed.push(reading.host.id);
        return undefined;
      }
    }),
  );
  return { round, averageMs, readings: results.filter((r) => r !== undefined), failed, skipped };
}

/** The cluster time a round chose: an offset from the master's clock, and the readings that chose it. */
interface ClusterTimeChoice {
  averageMs: number;
  /** Which readings went into the choice. */
  included: boolean[];
}

/**
 * Step 2: the offset (from the master's clock) every host is brought to, and which readings chose
 * it. Readings are the master's own (index 0, offset 0) and the other hosts'.
 */
function chooseClusterTime(
  readings: { offsetMs: number; synced: boolean }[],
  referenced: boolean,
): ClusterTimeChoice {
  if (referenced) return { averageMs: 0, included: readings.map((_, i) => i === 0) };
  // A host never synchronized (just joined), or synchronized with a poor error bound (a slow
  // Cristian sample), is corrected but does not vote: its clock says little about the cluster's
  // time yet. On a cold start nobody is synchronized, and every clock votes.
  const synced = readings.filter((r) => r.synced);
  const voters = synced.length > 0 ? synced : readings;
  const { midpoint, kept } = faultTolerantMidpoint(voters.map((r) => r.offsetMs));
  return { averageMs: midpoint, included: readings.map((r) => kept[voters.indexOf(r)] === true) };
}
