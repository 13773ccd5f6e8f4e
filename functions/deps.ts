/**
 * What every function handler may use. Handlers get these injected by the host (functions/app.ts)
 * and hold no payment state of their own: any host can answer any request.
 */

import type { Clock, HostClock } from '../coordination/clock/clock';
import type { HybridClock } from '../coordination/clock/hlc';
import type { ClockSync } from '../coordination/clock-sync/clock-sync';
import type { ClusterStatusSource } from '../coordination/cluster/host-coordination';
import type { EventStore } from '../coordination/events/event-store';
import type { RecordEvent } from '../coordination/events/event-types';
import type { PaymentLedger } from '../ledger/ledger';
import type { ApiKeyStore } from './auth/api-key-store';
import type { Metrics } from './observability/metrics';

/** Clock synchronization and the cluster event log (functions/handlers/time.ts, functions/handlers/events.ts). */
export interface ClockDeps {
  /** The same clock as `clock`, with its synchronization controls. */
  hostClock: HostClock;
  /** Stamps commits (functions/handlers/create-payment.ts) and orders the events of reads. */
  hlc: HybridClock;
  /** Records this host's payment events in the cluster event log. Default: none recorded. */
  record?: RecordEvent;
  /** Absent when the host has no cluster view to synchronize with. */
  sync?: ClockSync;
  /** Absent when the host keeps no event log. */
  eventStore?: EventStore;
  /** A host whose event mark is older than this is not waited for by GET /events, ms. Default 5000. */
  maxEventLatenessMs?: number;
}

export interface FunctionDeps {
  ledger: PaymentLedger;
  /** API key records, read by the authentication gate and written by the admin key routes. */
  apiKeys: ApiKeyStore;
  clock: Clock;
  /** This host's id, recorded on the payments it commits. */
  hostId: string;
  /** Membership and leadership (absent in single-process tests): serves /cluster and gates /ready. */
  cluster?: ClusterStatusSource;
  /** Where handlers count what they do (in-flight commits). Default: not counted. */
  metrics?: Metrics;
  /** Optional: hosts built without it serve no /time or /events, stamp no HLC and record no payment events. */
  clocks?: ClockDeps;
}
