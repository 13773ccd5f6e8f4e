/**
 * Each host's clock offset as GET /cluster reports it: read live from the host's GET /time, with
 * Cristian's compensation (the reading is compared with the midpoint of the request on this host's
 * clock), so an operator sees the skew between hosts as it is now, not as last reported.
 *
 *   clockOffsetMs      the host's corrected clock minus this host's, ± half the round trip
 *   clockErrorBoundMs  the host's own error bound against the cluster (null before its first sync)
 *   clockSynced        whether the host has synchronized at least once
 *   clockSource        where its time comes from (TimeReading.source: the master says
 *                      `reference` or, without a reachable NTP server, `internal`)
 *   referenceErrorBoundMs  on the master, its error bound against the reference (grows in fallback)
 */
import type { Clock } from '../clock/clock';
import type { TimePeer, TimeReading } from './time-peer';

export type PeerClockDetails = {
  clockOffsetMs: number | null;
  clockErrorBoundMs: number | null;
  clockSynced: boolean | null;
  clockSource?: TimeReading['source'];
  referenceErrorBoundMs?: number | null;
};

const UNKNOWN: PeerClockDetails = { clockOffsetMs: null, clockErrorBoundMs: null, clockSynced: null };

export async function peerClockDetails(peer: TimePeer, clock: Clock, url: string): Promise<PeerClockDetails> {
  try {
    const sent = clock.now();
    const reading = await peer.readTime(url);
    const received = clock.now();
    const rounded = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
      clockOffsetMs: rounded(reading.corrected - (sent + received) / 2),
      clockErrorBoundMs:
        reading.errorBoundMs === null ? null : rounded(reading.errorBoundMs + (received - sent) / 2),
      clockSynced: reading.synced,
      ...(reading.source ? { clockSource: reading.source } : {}),
      ...(reading.referenceErrorBoundMs !== null && reading.referenceErrorBoundMs !== undefined
        ? { referenceErrorBoundMs: rounded(reading.referenceErrorBoundMs) }
        : {}),
    };
  } catch {
    return UNKNOWN; // a host that does not answer within the peer's deadline shows no offset
  }
}
