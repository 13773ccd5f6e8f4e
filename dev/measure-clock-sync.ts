/**
 * `npm run measure:clocks`: the figures in docs/time-sync.md.
 *
 *  1. Error before and after synchronization, for several Berkeley intervals: three hosts in this
 *     process (real HTTP on loopback) with offsets −2 s, 0, +1.5 s and drifts +200, −200, 0 ppm;
 *     every host's corrected clock is read at one instant and compared with true time.
 *  2. Cost of synchronization: HTTP messages per second, and CPU per second of the whole
 *     three-host cluster with synchronization on minus off.
 *  3. Clock skew against ordering: the same load (payments sent one after another, round robin
 *     over the three hosts, each acknowledged before the next is sent, so real-time order is etcd
 *     commit order) against a real three-member etcd cluster, with synchronization off and on;
 *     counts pairs of payments whose committedAt (or HLC) order contradicts etcd's commit order.
 *
 *  4. Reordering and timestamp correction: the events the hosts recorded during the sync-on run
 *     of 3 (an in-memory event store), counted for `recorrected`, then replayed through the event
 *     log's ReorderBuffer with batch shipping, network delay and one host cut off for 2 s
 *     (dev/report/reorder-replay.ts): late events, the delay the buffer adds, the watermark's lag.
 *
 * Flags: --quick (shorter runs), --payments N (default 300), --json FILE (write 3 and 4 there, in the
 * report contract's shape, and skip 1 and 2, which `npm run measure:time` measures for the report),
 * --run-id ID (copied into the JSON).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MemoryEventStore } from '../coordination/events/event-store';
import type { ClusterEvent } from '../coordination/events/event-types';
import { EtcdLedger } from '../ledger/etcd/etcd-ledger';
import type { PaymentLedger } from '../ledger/ledger';
import { MemoryLedger } from '../ledger/memory-ledger';
import type { StoredPayment } from '../ledger/payment';
import { percentile } from '../loadtest/latency-stats';
import { InProcessHosts } from './cluster/in-process-hosts';
import { startScratchCluster } from './cluster/scratch-cluster';
import { measurementHeader } from './measure-output';
import { replayMerge } from './report/reorder-replay';
import { stat } from './report/stat';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    payments: { type: 'string' },
    json: { type: 'string' },
    'run-id': { type: 'string' },
  },
});
const header = measurementHeader('measure:clocks', values['run-id']);
const quick = values.quick ?? false;
const paymentCount = Number(values.payments ?? 300);

const SKEWED = [
  { id: 'h1', offsetMs: -2000, driftPpm: 200 },
  { id: 'h2', offsetMs: 0, driftPpm: -200 },
  { id: 'h3', offsetMs: 1500, driftPpm: 0 },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (x: number, digits = 3) => x.toFixed(digits);

async function settle(cluster: InProcessHosts, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cluster.hosts.every((h) => h.clocks.hostClock.synced && Math.abs(h.clocks.hostClock.pendingMs()) < 1))
      return;
    await sleep(50);
  }
  throw new Error('hosts did not settle');
}

/** Samples pairwise offset and error against true time every 20 ms for `durationMs`. */
async function sampleErrors(cluster: InProcessHosts, durationMs: number) {
  const pairwise: number[] = [];
  const vsTrue: number[] = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const errors = cluster.errorsAgainstTrueTime().map((e) => e.errorMs);
    pairwise.push(Math.max(...errors) - Math.min(...errors));
    vsTrue.push(...errors.map(Math.abs));
    await sleep(20);
  }
  return {
    pairwiseP50: percentile(pairwise, 50),
    pairwiseP99: percentile(pairwise, 99),
    pairwiseMax: percentile(pairwise, 100),
    trueP50: percentile(vsTrue, 50),
    trueMax: percentile(vsTrue, 100),
  };
}

async function errorVersusInterval(): Promise<void> {
  console.log('\n## 1. Error before and after synchronization, by Berkeley interval\n');
  console.log(
    '| interval | before: pairwise / worst vs true | time to settle | after: pairwise p50 / p99 / max | after: vs true p50 / max | rounds sampled |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const intervalMs of quick ? [250, 1000] : [250, 1000, 4000]) {
    const cluster = await InProcessHosts.start({
      hosts: SKEWED,
      ledger: new MemoryLedger(),
      leaderId: 'h2',
      tuning: { sync: { roundIntervalMs: intervalMs, checkIntervalMs: 50 } },
    });
    try {
      const before = cluster.errorsAgainstTrueTime().map((e) => e.errorMs);
      const started = Date.now();
      await settle(cluster);
      const settleMs = Date.now() - started;
      const rounds = quick ? 3 : 4;
      const roundsBefore = cluster.host('h2').clocks.sync!.stats.rounds;
      const after = await sampleErrors(cluster, Math.max(3000, rounds * intervalMs));
      const sampled = cluster.host('h2').clocks.sync!.stats.rounds - roundsBefore;
      console.log(
        `| ${intervalMs} ms | ${fmt(Math.max(...before) - Math.min(...before), 0)} ms / ${fmt(Math.max(...before.map(Math.abs)), 0)} ms | ${fmt(settleMs / 1000, 1)} s | ${fmt(after.pairwiseP50)} / ${fmt(after.pairwiseP99)} / ${fmt(after.pairwiseMax)} ms | ${fmt(after.trueP50)} / ${fmt(after.trueMax)} ms | ${sampled} |`,
      );
    } finally {
      await cluster.stop();
    }
  }
}

/** One window of `durationMs` on a fresh cluster: sync rounds, messages and process CPU per second. */
async function costWindow(syncEnabled: boolean, durationMs: number) {
  const cluster = await InProcessHosts.start({
    hosts: SKEWED,
    ledger: new MemoryLedger(),
    leaderId: 'h2',
    syncEnabled,
  });
  try {
    if (syncEnabled) await settle(cluster);
    else await sleep(3000); // the same warm-up time as settling takes
    const messagesBefore = cluster.syncMessages();
    const roundsBefore = cluster.host('h2').clocks.sync?.stats.rounds ?? 0;
    const usage = process.cpuUsage();
    const started = performance.now();
    await sleep(durationMs);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(usage);
    return {
      cpuMsPerS: (used.user + used.system) / 1000 / seconds,
      messagesPerS: (cluster.syncMessages() - messagesBefore) / seconds,
      roundsPerS: ((cluster.host('h2').clocks.sync?.stats.rounds ?? 0) - roundsBefore) / seconds,
    };
  } finally {
    await cluster.stop();
  }
}

async function costOfSync(): Promise<void> {
  console.log('\n## 2. Cost of synchronization (three hosts, 1 s Berkeley interval, no payment load)\n');
  const durationMs = quick ? 4000 : 8000;
  const pairs = quick ? 2 : 4;
  await costWindow(true, 2000); // warm-up: JIT, connection set-up; discarded
  const off: Awaited<ReturnType<typeof costWindow>>[] = [];
  const on: Awaited<ReturnType<typeof costWindow>>[] = [];
  for (let i = 0; i < pairs; i++) {
    off.push(await costWindow(false, durationMs));
    on.push(await costWindow(true, durationMs));
  }
  const median = (xs: number[]) => percentile(xs, 50);
  console.log(
    `| sync | Berkeley rounds/s | HTTP messages/s (requests + responses) | process CPU, median of ${pairs} windows of ${durationMs / 1000} s | each window |`,
  );
  console.log('|---|---|---|---|---|');
  for (const [name, runs] of [
    ['off', off],
    ['on', on],
  ] as const) {
    console.log(
      `| ${name} | ${fmt(median(runs.map((r) => r.roundsPerS)), 2)} | ${fmt(median(runs.map((r) => r.messagesPerS)), 1)} | ${fmt(median(runs.map((r) => r.cpuMsPerS)), 1)} ms/s | ${runs.map((r) => fmt(r.cpuMsPerS, 1)).join(', ')} |`,
    );
  }
  const cost = median(on.map((r) => r.cpuMsPerS)) - median(off.map((r) => r.cpuMsPerS));
  console.log(
    `\nCPU attributable to synchronization: ${fmt(cost, 1)} ms of CPU per second for the three hosts together.`,
  );
}

/** Pairs (i < j in etcd commit order) whose `key` order contradicts it. */
function inversions(payments: StoredPayment[], key: (p: StoredPayment) => string): number {
  let count = 0;
  for (let i = 0; i < payments.length; i++) {
    for (let j = i + 1; j < payments.length; j++) if (key(payments[i]!) > key(payments[j]!)) count += 1;
  }
  return count;
}

interface SkewRow {
  sync: 'off' | 'on';
  payments: number;
  pairs: number;
  inversions: number;
  adjacentInversions: number;
  hlcInversions: number;
}

async function orderingUnderSkew(): Promise<{ skew: SkewRow[]; events: ClusterEvent[] }> {
  const skew: SkewRow[] = [];
  let events: ClusterEvent[] = [];
  console.log(
    `\n## 3. Clock skew against etcd commit order (${paymentCount} payments, sequential, round robin over 3 hosts)\n`,
  );
  const etcd = await startScratchCluster({ members: 3 });
  try {
    console.log(
      '| sync | payments/s | committedAt inversions | adjacent committedAt inversions | HLC inversions (client passes no X-HLC) | HLC inversions (client passes X-HLC) |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const syncEnabled of [false, true]) {
      const root = `/measure/${randomUUID()}`;
      const ledger: PaymentLedger = new EtcdLedger({ client: etcd.client(), root });
      const eventStore = new MemoryEventStore();
      const cluster = await InProcessHosts.start({
        hosts: SKEWED,
        ledger,
        leaderId: 'h2',
        syncEnabled,
        eventStore,
      });
      try {
        if (syncEnabled) await settle(cluster);
        const counts: number[] = [];
        let adjacent = 0;
        let rate = 0;
        for (const passHeader of [false, true]) {
          const started = performance.now();
          const stored: StoredPayment[] = [];
          let hlc: string | null = null;
          for (let i = 0; i < paymentCount; i++) {
            const host = cluster.hosts[i % cluster.hosts.length]!;
            const response = await fetch(`${host.url}/payments`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${cluster.adminKey}`,
                ...(passHeader && hlc ? { 'x-hlc': hlc } : {}),
              },
              body: JSON.stringify({
                id: `m-${randomUUID()}`,
                payer: 'alice',
                payee: 'bob',
                amount: 1,
                currency: 'EUR',
              }),
            });
            if (response.status !== 201)
              throw new Error(`payment answered ${response.status}: ${await response.text()}`);
            hlc = response.headers.get('x-hlc');
            stored.push((await response.json()) as StoredPayment);
          }
          stored.sort((a, b) => a.sequence - b.sequence);
          if (!passHeader) {
            rate = paymentCount / ((performance.now() - started) / 1000);
            counts.push(inversions(stored, (p) => p.committedAt));
            adjacent = stored.filter((p, i) => i > 0 && stored[i - 1]!.committedAt > p.committedAt).length;
          }
          counts.push(inversions(stored, (p) => p.hlc ?? ''));
        }
        const pairs = (paymentCount * (paymentCount - 1)) / 2;
        console.log(
          `| ${syncEnabled ? 'on' : 'off'} | ${fmt(rate, 0)} | ${counts[0]} of ${pairs} pairs | ${adjacent} of ${paymentCount - 1} | ${counts[1]} | ${counts[2]} |`,
        );
        skew.push({
          sync: syncEnabled ? 'on' : 'off',
          payments: paymentCount,
          pairs,
          inversions: counts[0]!,
          adjacentInversions: adjacent,
          hlcInversions: counts[1]!,
        });
      } finally {
        await cluster.stop();
        await ledger.close();
      }
      // After stop(), which ships what the hosts still held.
      if (syncEnabled) {
        const marks = await eventStore.marks();
        events = (
          await Promise.all(marks.map((m) => eventStore.readHost(m.host, '', Number.MAX_SAFE_INTEGER)))
        ).flat();
      }
    }
  } finally {
    await etcd.stop();
  }
  return { skew, events };
}

/** Section 4: the recorded events, counted and replayed through the reorder buffer with 3 seeds. */
function reordering(events: ClusterEvent[]) {
  const replays = [1, 2, 3].map((seed) =>
    replayMerge(events, { seed, cut: { host: 'h3', fromMs: 1000, toMs: 3000 } }),
  );
  const median = (xs: number[]) => percentile(xs, 50);
  const result = {
    events: events.length,
    lateEvents: Math.round(median(replays.map((r) => r.late))),
    delayAddedMs: stat(replays.map((r) => median(r.delaysMs))),
    recorrected: events.filter((e) => e.recorrected).length,
    watermarkLagMs: stat(replays.map((r) => median(r.watermarkLagMs))),
  };
  console.log("\n## 4. Reordering and timestamp correction (the sync-on run's events, h3 cut off 1–3 s)\n");
  console.log(
    '| events | late | delay added by the buffer, median ms (3 replays) | watermark lag, median ms | recorrected |',
  );
  console.log('|---|---|---|---|---|');
  console.log(
    `| ${result.events} | ${result.lateEvents} | ${result.delayAddedMs.samples.map((x) => fmt(x, 0)).join(', ')} | ${result.watermarkLagMs.samples.map((x) => fmt(x, 0)).join(', ')} | ${result.recorrected} |`,
  );
  return result;
}

console.log(`# Clock synchronization measurements (${new Date().toISOString()}, node ${process.version})`);
if (!values.json) {
  await errorVersusInterval();
  await costOfSync();
}
const { skew, events } = await orderingUnderSkew();
const reorder = reordering(events);
if (values.json)
  writeFileSync(values.json, `${JSON.stringify({ ...header, skew, reordering: reorder }, null, 2)}\n`);
process.exit(0);
