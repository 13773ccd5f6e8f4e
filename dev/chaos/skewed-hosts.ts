/**
 * The three skewed in-process hosts of issue 16 (−2 s, 0, +1.5 s; +200, −150, −200 ppm) over the
 * in-memory ledger, with host-to-host HTTP through delaying link proxies when `delays` is given.
 * Shared by test/cluster/clock-reference.test.ts and dev/measure-time-accuracy.ts.
 */
import type { ClockSyncOptions } from '../../coordination/clock-sync/clock-sync';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { InProcessHosts } from '../cluster/in-process-hosts';
import { DelayedHostLinks } from './delayed-host-links';
import type { LinkDelays } from './link-delay';

export const SKEWED_HOSTS = [
  { id: 'h1', offsetMs: -2000, driftPpm: 200 },
  { id: 'h2', offsetMs: 0, driftPpm: -150 },
  { id: 'h3', offsetMs: 1500, driftPpm: -200 },
];

export interface SkewedHostsOptions {
  leaderId: string;
  /** Delays on every host-to-host link. Default none: direct loopback. */
  delays?: LinkDelays;
  /** Synchronization tuning for every host (the reference among it). */
  sync?: Omit<ClockSyncOptions, 'clock' | 'view' | 'peer' | 'record'>;
}

export async function startSkewedHosts({ leaderId, delays, sync }: SkewedHostsOptions) {
  const links = delays
    ? await DelayedHostLinks.reserve(
        SKEWED_HOSTS.map((h) => h.id),
        delays,
      )
    : undefined;
  const cluster = await InProcessHosts.start({
    hosts: SKEWED_HOSTS,
    ledger: new MemoryLedger(),
    leaderId,
    route: links?.route,
    tuning: { sync: { checkIntervalMs: 50, ...sync } },
  });
  await links?.start(cluster);
  return { cluster, links };
}
