/**
 * What the cluster event log holds: one record per thing that happened on a host, stamped with
 * its HLC (the order of the merged log) and with both the raw and the corrected wall-clock time.
 */

export const CLUSTER_EVENT_TYPES = [
  'payment.received',
  'payment.committed',
  'payment.replayed',
  'payment.rejected',
  'payment.queried',
  'leader.changed',
  'failure.detected',
  'clock.adjusted',
] as const;

export type ClusterEventType = (typeof CLUSTER_EVENT_TYPES)[number];

export type EventDetails = Record<string, string | number | boolean>;

/** Records an event now; `hlc` when the caller already stamped it (e.g. a commit carries its payment's HLC). */
export type RecordEvent = (type: ClusterEventType, details: EventDetails, hlc?: string) => void;

export interface ClusterEvent {
  host: string;
  /** Per-host sequence number of the record, for uniqueness and gap checks. */
  seq: number;
  type: ClusterEventType;
  /** Hybrid logical clock timestamp (coordination/clock/hlc.ts); the merged log's order. */
  hlc: string;
  /** Corrected wall-clock time, ISO-8601 UTC. */
  at: string;
  /** The host's raw, uncorrected clock when it recorded the event. */
  rawAt: string;
  /** True when `at` was computed after the fact, because the host's clock had not been corrected yet. */
  recorrected: boolean;
  details: EventDetails;
}

/** A host's shipping progress: every event it recorded with an HLC ≤ `hlc` is in the store. */
export interface HostMark {
  host: string;
  hlc: string;
  /** Corrected time the mark was written, ms; a mark that stops moving shows a host cut off or gone. */
  atMs: number;
}

/** Total order of the merged log: HLC, then host, then sequence. Also the read cursor. */
export const orderKey = (e: Pick<ClusterEvent, 'hlc' | 'host' | 'seq'>): string =>
  `${e.hlc}/${e.host}/${String(e.seq).padStart(12, '0')}`;
