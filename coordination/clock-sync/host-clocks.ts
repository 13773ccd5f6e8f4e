/**
 * Everything time-related one host runs, built in one place so the host process, the in-process
 * tests and the measurement script assemble it the same way: the skewable HostClock, the HLC on
 * top of it, clock synchronization over the cluster view, and the event log. `deps` is what the
 * HTTP app needs (functions/deps.ts): the payment handlers stamp commits with its HLC and record
 * payment events through its `record`.
 */
import { HostClock, type HostClockOptions } from '../clock/clock';
import { HybridClock, type HybridClockOptions } from '../clock/hlc';
import type { ClusterView } from '../cluster/cluster-view';
import { EventLog, type EventLogOptions } from '../events/event-log';
import type { EventStore } from '../events/event-store';
import type { RecordEvent } from '../events/event-types';
import { ClockSync, type ClockSyncOptions } from './clock-sync';
import { HttpTimePeer, type TimePeer } from './time-peer';

export interface HostClocksOptions {
  hostId: string;
  /** Membership and leader; without one the host does not synchronize its clock. */
  view?: ClusterView;
  /** Where events are shipped; without one the host keeps no event log. */
  eventStore?: EventStore;
  /** Transport to other hosts' clocks. Default: HTTP. */
  peer?: TimePeer;
  /** Simulated skew and slewing (coordination/clock/clock.ts). */
  clock?: HostClockOptions;
  /** HLC bounds (coordination/clock/hlc.ts): the maximum offset a received timestamp may lead by. */
  hlc?: Omit<HybridClockOptions, 'clock'>;
  /** Synchronization tuning (coordination/clock-sync/clock-sync.ts). */
  sync?: Omit<ClockSyncOptions, 'clock' | 'view' | 'peer' | 'record'>;
  /** Event log tuning (coordination/events/event-log.ts). */
  events?: Omit<EventLogOptions, 'hostId' | 'clock' | 'hlc' | 'store' | 'shouldTrim'>;
  /** GET /events does not wait for a host whose mark is older than this, ms. Default 5000. */
  maxEventLatenessMs?: number;
}

export function createHostClocks({
  hostId,
  view,
  eventStore,
  peer = new HttpTimePeer(),
  clock: clockOptions,
  hlc: hlcOptions,
  sync: syncOptions,
  events: eventOptions,
  maxEventLatenessMs = 5000,
}: HostClocksOptions) {
  const hostClock = new HostClock(clockOptions);
  const hlc = new HybridClock({ ...hlcOptions, clock: hostClock });
  const eventLog = eventStore
    ? new EventLog({
        ...eventOptions,
        hostId,
        clock: hostClock,
        hlc,
        store: eventStore,
        // One host sweeps retention: the leader, when there is one.
        shouldTrim: () => (view ? view.isLeader() : true),
      })
    : undefined;
  const record: RecordEvent = (type, details, stamp) => eventLog?.record(type, details, stamp);
  // Adjustments within their own error (Berkeley's dead band sends them as 0; a referenced master
  // sends the measured noise for the host to intersect, every round) only refresh the error bound:
  // not logged, or the event log would take one per host per round.
  hostClock.onAdjust(({ source, deltaMs, errorMs }) => {
    if (Math.abs(deltaMs) > errorMs || source === 'reference') {
      record('clock.adjusted', { source, deltaMs: round3(deltaMs), errorMs: round3(errorMs) });
    }
  });
  const sync = view ? new ClockSync({ ...syncOptions, clock: hostClock, view, peer, record }) : undefined;
  return {
    hostClock,
    hlc,
    sync,
    eventLog,
    record,
    deps: { hostClock, hlc, record, sync, eventStore, maxEventLatenessMs },
    start(): void {
      sync?.start();
      eventLog?.start();
    },
    async stop(): Promise<void> {
      sync?.stop();
      peer.close?.();
      await eventLog?.stop();
    },
  };
}

export type HostClocks = ReturnType<typeof createHostClocks>;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
