/**
 * Issue 16's figures: accuracy against true time with an NTP reference, under network delay.
 * Three hosts in this process (real HTTP on loopback) skewed −2 s, 0, +1.5 s with +200, −150,
 * −200 ppm; chronyd on loopback (dev/cluster/local-chrony.ts) serves this machine's clock as the
 * reference. Host-to-host HTTP goes through the TCP link proxy and NTP through the UDP relay, each
 * delaying per direction (dev/chaos/link-delay.ts).
 *
 *  1. Per network condition, each host leading in turn (the asymmetric and lossy conditions with
 *     h1 leading only, unless --full): error against true time (p50/p99/max),
 *     pairwise offset, readings outside the host's reported bound, the bound itself; every
 *     Cristian-style sample's estimate against the truth (is the true offset within ±RTT/2?);
 *     messages and CPU per second. True error comes from a probe outside the hosts: GET /time on
 *     each host directly (not through the relays), bracketed by the machine clock, keeping the
 *     fastest of 5, and only when its ±RTT/2 is within 1 ms (how many were dropped is printed).
 *     Cost (messages, CPU) is measured in a window of its own, without the probe.
 *  2. Sync intervals 250 ms, 1 s, 4 s on loopback: error p50/p99/max and cost, over 5 windows
 *     each, median and range.
 *  3. The picture (docs/time-sync-offsets.svg): each host's offset over time from start, through
 *     convergence (the first 15 s), a leader kill with payments before and after it (the largest
 *     adjustment a survivor took, and committedAt inversions against commit order), and the
 *     re-election.
 *  4. With chronyd stopped: the master's source and its bound over time.
 *
 * Flags: --quick (shorter windows), --full (every leader under every condition), --parts LIST
 * (accuracy,overhead,convergence; default all), --out FILE (markdown, default
 * results/time-accuracy.md), --json FILE (the figures `npm run report` reads, schema in the report
 * contract), --run-id ID (copied into the JSON). About 4 minutes by default on an idle 2-core box.
 * Every figure is from this machine's clock; measurements on a shared machine are noisy.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineTime } from '../coordination/clock/clock';
import { NtpReference, type TimeReference } from '../coordination/clock-sync/ntp-reference';
import type { TimePeer, TimeReading } from '../coordination/clock-sync/time-peer';
import type { DelayedHostLinks } from './chaos/delayed-host-links';
import type { LinkDelays } from './chaos/link-delay';
import { SKEWED_HOSTS, startSkewedHosts } from './chaos/skewed-hosts';
import { UdpRelay } from './chaos/udp-relay';
import { freeUdpPort } from './cluster/free-udp-port';
import type { InProcessHosts } from './cluster/in-process-hosts';
import { ensureChrony, LocalChrony } from './cluster/local-chrony';
import { measurementHeader, writeMeasurementJson } from './measure-output';
import { offsetPlot } from './report/offset-plot';

const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv,
  options: {
    quick: { type: 'boolean' },
    full: { type: 'boolean' },
    parts: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'string' },
    'run-id': { type: 'string' },
  },
});
const quick = values.quick ?? false;
const full = values.full ?? false;
const out = values.out ?? 'results/time-accuracy.md';
const PARTS = ['accuracy', 'overhead', 'convergence'] as const;
const parts = new Set((values.parts ?? PARTS.join(',')).split(',').map((p) => p.trim()));
for (const p of parts)
  if (!(PARTS as readonly string[]).includes(p))
    throw new Error(`--parts: unknown part "${p}" (${PARTS.join(', ')})`);
const header = measurementHeader('measure:time', values['run-id'], argv);
/** Each half of an accuracy window: cost (no probe), then accuracy (probe), ms. */
const WINDOW_MS = quick ? 1500 : 2500;

const SKEWED = SKEWED_HOSTS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const q = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
const median = (xs: number[]) =>
  q(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const range = (xs: number[], d = 2) => `${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)}`;
const lines: string[] = [];
const say = (line = '') => {
  console.log(line);
  lines.push(line);
};

interface Condition {
  name: string;
  /** Its name in the JSON (`accuracy[].condition`); conditions without one are in the markdown only. */
  json?: AccuracyRow['condition'];
  delays?: LinkDelays;
}
const CONDITIONS: Condition[] = [
  { name: 'loopback', json: 'loopback' },
  {
    name: '5 ± 2 ms each way',
    json: '5±2 ms delay',
    delays: { forward: { delayMs: 5, jitterMs: 2 }, back: { delayMs: 5, jitterMs: 2 }, seed: 16 },
  },
  {
    name: 'asymmetric: 1 ms out, 9 ms back',
    delays: { forward: { delayMs: 1 }, back: { delayMs: 9 }, seed: 16 },
  },
  {
    name: '5 ± 2 ms, 2 % loss',
    delays: {
      forward: { delayMs: 5, jitterMs: 2, loss: 0.02 },
      back: { delayMs: 5, jitterMs: 2, loss: 0.02 },
      seed: 16,
    },
  },
];

/** The JSON of the report contract ("measure:time"). */
interface AccuracyRow {
  condition: 'loopback' | '5±2 ms delay';
  leader: string;
  maxAbsErrorMs: number;
  boundMs: number;
  withinBound: boolean;
}
const report = {
  ...header,
  accuracy: [] as AccuracyRow[],
  convergence: {
    condition: 'loopback' as const,
    series: [] as { host: string; points: [number, number][] }[],
  },
  overhead: [] as { intervalMs: number; errorP99Ms: number; cpuMsPerS: number; messagesPerS: number }[],
  leaderKill: { clockStepMs: Number.NaN, committedAtInversions: Number.NaN },
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A sample's estimate against the truth read in-process at the same instant. */
interface SampleCheck {
  kind: 'http' | 'ntp';
  errorMs: number;
  boundMs: number;
}

interface Rig {
  cluster: InProcessHosts;
  reference: TimeReference & { messages: number };
  relay?: UdpRelay;
  links?: DelayedHostLinks;
  checks: SampleCheck[];
}

async function startRig(
  chrony: LocalChrony,
  leaderId: string,
  delays: LinkDelays | undefined,
  roundIntervalMs: number,
): Promise<Rig> {
  const [chronyHost, chronyPort] = chrony.address.split(':');
  const relay = delays ? await UdpRelay.start({ targetPort: Number(chronyPort), delays }) : undefined;
  const checks: SampleCheck[] = [];
  // Over delayed links, 8 samples per poll, NTP and HTTP alike (test/cluster/clock-reference.test.ts too).
  const ntp = new NtpReference({
    servers: [relay?.address ?? `${chronyHost}:${chronyPort}`],
    timeoutMs: 300,
    samplesPerServer: delays ? 8 : 3,
  });
  // The NTP estimate against the truth: the machine clock minus the host's, read right after the sample.
  const reference = {
    servers: ntp.servers,
    get messages() {
      return ntp.messages;
    },
    async sample(clock: Parameters<TimeReference['sample']>[0]) {
      const s = await ntp.sample(clock);
      checks.push({
        kind: 'ntp',
        errorMs: s.offsetMs - (machineTime() - clock.targetNow()),
        boundMs: s.errorMs,
      });
      return s;
    },
  };
  const { cluster, links } = await startSkewedHosts({
    leaderId,
    delays,
    sync: { roundIntervalMs, reference, samplesPerHost: delays ? 8 : 3, maxRttMs: 40 },
  });
  // Every clock poll (Berkeley's and Cristian's) checked against the truth: the polled host's
  // clock minus the poller's, read in this process the instant the answer arrives. The instance
  // method is wrapped, so the hosts' own synchronization uses the same code path.
  for (const poller of cluster.hosts) {
    const peer: TimePeer = poller.peer;
    const readTime = peer.readTime.bind(peer);
    peer.readTime = async (url: string): Promise<TimeReading> => {
      const sent = poller.clocks.hostClock.raw();
      const reading = await readTime(url);
      const rtt = poller.clocks.hostClock.raw() - sent;
      const target = cluster.hosts.find((h) => h.id === reading.host);
      if (target?.alive) {
        const estimate = reading.time + rtt / 2 - poller.clocks.hostClock.targetNow();
        const truth = target.clocks.hostClock.targetNow() - poller.clocks.hostClock.targetNow();
        checks.push({ kind: 'http', errorMs: estimate - truth, boundMs: rtt / 2 });
      }
      return reading;
    };
  }
  return { cluster, reference, relay, links, checks };
}

async function stopRig(rig: Rig): Promise<void> {
  await rig.cluster.stop();
  await rig.links?.close();
  await rig.relay?.close();
}

/** The outside probe: each live host's GET /time, directly, bracketed by the machine clock (fastest of 5). */
async function probe(cluster: InProcessHosts) {
  const result: { id: string; errorMs: number; uncertaintyMs: number; boundMs: number }[] = [];
  for (const h of cluster.hosts.filter((x) => x.alive)) {
    let best: (typeof result)[number] | undefined;
    for (let i = 0; i < 5; i++) {
      const t0 = machineTime();
      const reading = (await (await fetch(`${h.url}/time`)).json()) as TimeReading;
      const t1 = machineTime();
      const candidate = {
        id: h.id,
        errorMs: reading.corrected - (t0 + t1) / 2,
        uncertaintyMs: (t1 - t0) / 2,
        boundMs: reading.errorBoundMs ?? Number.POSITIVE_INFINITY,
      };
      if (!best || candidate.uncertaintyMs < best.uncertaintyMs) best = candidate;
    }
    result.push(best!);
  }
  return result;
}

/** Waits until every host is within `boundMs` of true time (in-process read), at most `timeoutMs`. */
async function settle(cluster: InProcessHosts, boundMs: number, timeoutMs: number): Promise<number> {
  const start = machineTime();
  while (machineTime() - start < timeoutMs) {
    if (cluster.errorsAgainstTrueTime().every((e) => Math.abs(e.errorMs) <= boundMs))
      return machineTime() - start;
    await sleep(50);
  }
  return Number.NaN;
}

interface Window {
  abs: number[];
  pairwise: number[];
  outside: number;
  readings: number;
  /** Probe readings dropped because their own uncertainty (±RTT/2) was over MAX_PROBE_UNCERTAINTY_MS. */
  dropped: number;
  bounds: number[];
  /** Largest |error| read in-process (no network between the clocks and the reader), the cross-check. */
  inProcessMax: number;
  messagesPerS: number;
  cpuMsPerS: number;
}

/** A probe reading is used only when its own round trip bounds it this tightly, ms. */
const MAX_PROBE_UNCERTAINTY_MS = 1;

/**
 * Cost first, over `durationMs` with nothing but synchronization running (messages, and this
 * process's CPU: hosts, proxies and relays; chronyd is another process), then accuracy over as long
 * again with the probe running.
 */
async function measureWindow(rig: Rig, durationMs: number, costMs = durationMs): Promise<Window> {
  const { cluster, reference } = rig;
  const messages0 = cluster.syncMessages() + reference.messages;
  const cpu0 = process.cpuUsage();
  const c0 = machineTime();
  await sleep(costMs);
  const seconds = (machineTime() - c0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const w: Window = {
    abs: [],
    pairwise: [],
    outside: 0,
    readings: 0,
    dropped: 0,
    bounds: [],
    inProcessMax: 0,
    messagesPerS: (cluster.syncMessages() + reference.messages - messages0) / seconds,
    cpuMsPerS: (cpu.user + cpu.system) / 1000 / seconds,
  };
  const t0 = machineTime();
  while (machineTime() - t0 < durationMs) {
    const readings = await probe(cluster);
    const usable = readings.filter((r) => r.uncertaintyMs <= MAX_PROBE_UNCERTAINTY_MS);
    w.dropped += readings.length - usable.length;
    for (const r of usable) {
      w.abs.push(Math.abs(r.errorMs));
      w.bounds.push(r.boundMs);
      w.readings += 1;
      if (Math.abs(r.errorMs) > r.boundMs + r.uncertaintyMs) w.outside += 1;
    }
    if (usable.length === readings.length) {
      const errors = readings.map((r) => r.errorMs);
      w.pairwise.push(Math.max(...errors) - Math.min(...errors));
    }
    for (const e of cluster.errorsAgainstTrueTime())
      w.inProcessMax = Math.max(w.inProcessMax, Math.abs(e.errorMs));
    await sleep(200);
  }
  return w;
}

function summarize(w: Window) {
  const abs = [...w.abs].sort((a, b) => a - b);
  const pw = [...w.pairwise].sort((a, b) => a - b);
  return { p50: q(abs, 0.5), p99: q(abs, 0.99), max: abs.at(-1) ?? NaN, pairMax: pw.at(-1) ?? NaN };
}

async function part1(chrony: LocalChrony): Promise<void> {
  say('### 1. Accuracy by network condition, each host leading in turn (1 s rounds, NTP via chronyd)');
  say();
  say(
    '"Settled after": until every host is within 2 ms (loopback) or 10 ms (delayed links) of true time, read in-process.',
  );
  say();
  say(
    '| condition | leader | settled after | error vs true p50 / p99 / max (probe) | in-process max | pairwise max | worst bound | outside bound | probe readings dropped | messages/s | CPU ms/s |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  const sampleRows: string[] = [];
  for (const condition of CONDITIONS) {
    const checks: SampleCheck[] = [];
    // The report's conditions with every host leading; the others with h1 only unless --full (time).
    for (const leader of condition.json || full ? ['h1', 'h2', 'h3'] : ['h1']) {
      const rig = await startRig(chrony, leader, condition.delays, 1000);
      try {
        const took = await settle(rig.cluster, condition.delays ? 10 : 2, 15_000);
        await sleep(1000);
        rig.checks.length = 0;
        const w = await measureWindow(rig, WINDOW_MS);
        checks.push(...rig.checks);
        const s = summarize(w);
        if (condition.json) {
          report.accuracy.push({
            condition: condition.json,
            leader,
            maxAbsErrorMs: round3(s.max),
            boundMs: round3(Math.max(...w.bounds)),
            withinBound: w.outside === 0 && w.readings > 0,
          });
        }
        say(
          `| ${condition.name} | ${leader} | ${f(took / 1000, 1)} s | ${f(s.p50, 3)} / ${f(s.p99, 3)} / ${f(s.max, 3)} ms | ${f(w.inProcessMax, 3)} ms | ${f(s.pairMax, 3)} ms | ${f(Math.max(...w.bounds), 2)} ms | ${w.outside} of ${w.readings} | ${w.dropped} | ${f(w.messagesPerS, 1)} | ${f(w.cpuMsPerS, 1)} |`,
        );
      } finally {
        await stopRig(rig);
      }
    }
    for (const kind of ['http', 'ntp'] as const) {
      const mine = checks.filter((c) => c.kind === kind);
      if (mine.length === 0) continue;
      const errors = mine.map((c) => c.errorMs).sort((a, b) => a - b);
      const within = mine.filter((c) => Math.abs(c.errorMs) <= c.boundMs).length;
      sampleRows.push(
        `| ${condition.name} | ${kind === 'http' ? 'HTTP poll (Cristian/Berkeley)' : 'NTP (single exchange bound, then intersected)'} | ${mine.length} | ${f(q(errors, 0.01), 3)} / ${f(q(errors, 0.5), 3)} / ${f(q(errors, 0.99), 3)} ms | ${f(median(mine.map((c) => c.boundMs)), 3)} ms | ${within} of ${mine.length} |`,
      );
    }
  }
  say();
  say(
    "Each sample's estimate against the truth (estimate − true offset; the bound is ±RTT/2 of that sample for HTTP, the intersection's half-width for NTP):",
  );
  say();
  say('| condition | samples | n | error p1 / p50 / p99 | median bound | true offset within the bound |');
  say('|---|---|---|---|---|---|');
  for (const row of sampleRows) say(row);
  say();
}

async function part2(chrony: LocalChrony): Promise<void> {
  const windows = 5;
  say(
    `### 2. Accuracy against overhead by sync interval (loopback, NTP via chronyd, ${windows} windows each, leader h1; cost over max(${WINDOW_MS / 1000} s, one interval), error over ${WINDOW_MS / 1000} s)`,
  );
  say();
  say(
    '| interval | error p50 median (range) | error p99 median (range) | error max median (range) | messages/s median (range) | CPU ms/s median (range) |',
  );
  say('|---|---|---|---|---|---|');
  for (const interval of [250, 1000, 4000]) {
    const rig = await startRig(chrony, 'h1', undefined, interval);
    try {
      await settle(rig.cluster, 2, 20_000);
      await sleep(Math.max(1000, interval));
      const rows: ReturnType<typeof summarize>[] = [];
      const cost: Window[] = [];
      for (let i = 0; i < windows; i++) {
        const w = await measureWindow(rig, WINDOW_MS, Math.max(WINDOW_MS, interval));
        if (w.readings === 0) continue;
        rows.push(summarize(w));
        cost.push(w);
      }
      report.overhead.push({
        intervalMs: interval,
        errorP99Ms: round3(median(rows.map((r) => r.p99))),
        cpuMsPerS: round3(median(cost.map((c) => c.cpuMsPerS))),
        messagesPerS: round3(median(cost.map((c) => c.messagesPerS))),
      });
      const col = (pick: (r: ReturnType<typeof summarize>) => number) =>
        `${f(median(rows.map(pick)), 3)} (${range(rows.map(pick), 3)})`;
      say(
        `| ${interval} ms | ${col((r) => r.p50)} | ${col((r) => r.p99)} | ${col((r) => r.max)} | ${f(median(cost.map((c) => c.messagesPerS)), 1)} (${range(
          cost.map((c) => c.messagesPerS),
          1,
        )}) | ${f(median(cost.map((c) => c.cpuMsPerS)), 1)} (${range(
          cost.map((c) => c.cpuMsPerS),
          1,
        )}) |`,
      );
    } finally {
      await stopRig(rig);
    }
  }
  say();
}

/** Pays through `url`; returns committedAt (ms since the epoch) and the commit sequence. */
async function pay(cluster: InProcessHosts, url: string, id: string) {
  const res = await fetch(`${url}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cluster.adminKey}` },
    body: JSON.stringify({ id, payer: 'alice', payee: 'shop-1', amount: 100, currency: 'EUR' }),
  });
  if (res.status !== 201) throw new Error(`payment ${id} answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { committedAt: string; sequence: string | number };
  return { at: Date.parse(body.committedAt), sequence: Number(body.sequence) };
}

/** Seconds of the convergence series before the leader is killed. */
const CONVERGENCE_S = 15;

async function part3and4(chrony: LocalChrony): Promise<void> {
  const rig = await startRig(chrony, 'h1', undefined, 1000);
  const series = new Map(SKEWED.map((h) => [h.id, [] as [number, number][]]));
  const t0 = machineTime();
  const events: { atS: number; label: string }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = (machineTime() - t0) / 1000;
      const errors = new Map(rig.cluster.errorsAgainstTrueTime().map((e) => [e.id, e.errorMs]));
      for (const h of SKEWED) series.get(h.id)!.push([now, errors.get(h.id) ?? Number.NaN]);
      await sleep(50);
    }
  })();
  try {
    const { cluster } = rig;
    // Payments start once every host takes them (ready within its offset bound), before the kill.
    await settle(cluster, 2, CONVERGENCE_S * 1000);
    const stamps: { at: number; sequence: number }[] = [];
    const payments = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const live = cluster.hosts.filter((h) => h.alive);
        stamps.push(await pay(cluster, live[i % live.length]!.url, `p-kill-${stamps.length}`));
      }
    };
    await sleep(Math.max(0, CONVERGENCE_S * 1000 - (machineTime() - t0)) - 1000);
    await payments(6);
    // "Clock step": the largest change of target correction a survivor takes from the kill on.
    // Corrections are slewed, so the clock itself never steps; this bounds how far it moves at all.
    const adjustments: number[] = [];
    for (const id of ['h2', 'h3'])
      cluster.host(id).clocks.hostClock.onAdjust((a) => adjustments.push(a.deltaMs));
    events.push({ atS: (machineTime() - t0) / 1000, label: 'h1 (leader) killed, h2 elected' });
    const convergenceEnd = machineTime() - t0;
    await cluster.kill('h1');
    cluster.setLeader('h2');
    await payments(6);
    await sleep(3000); // three rounds under the new master
    await payments(6);
    await sleep(2000);
    sampling = false;
    await sampler;
    const bySequence = [...stamps].sort((a, b) => a.sequence - b.sequence);
    let inversions = 0;
    for (let i = 1; i < bySequence.length; i++)
      if (bySequence[i]!.at < bySequence[i - 1]!.at) inversions += 1;
    report.leaderKill = {
      clockStepMs: round3(Math.max(0, ...adjustments.map(Math.abs))),
      committedAtInversions: inversions,
    };
    report.convergence.series = SKEWED.map((h) => ({
      host: h.id,
      points: series
        .get(h.id)!
        .filter(([t]) => t * 1000 <= convergenceEnd)
        .map(([t, offset]): [number, number] => [Math.round(t * 1000), round3(offset)]),
    }));
    writeFileSync(
      'docs/time-sync-offsets.svg',
      offsetPlot({
        title: `Offset from true time: −2 s / 0 / +1.5 s start, NTP at the master, leader killed at ${Math.round(convergenceEnd / 1000)} s`,
        series: SKEWED.map((h) => ({
          name: `${h.id} (${h.offsetMs} ms, ${h.driftPpm} ppm)`,
          points: series.get(h.id)!,
        })),
        events,
      }),
    );
    say('### 3. Picture: docs/time-sync-offsets.svg (each host sampled every 50 ms in-process)');
    say();
    say(
      `Leader kill: ${stamps.length} payments around it; largest adjustment a survivor took ${f(report.leaderKill.clockStepMs, 3)} ms (slewed, never stepped); committedAt inversions against commit order: ${inversions}.`,
    );
    say();
    // 4. The reference stopped: the master (h2 now) falls back and its bound grows.
    await chrony.stop();
    say('### 4. chronyd stopped (master h2)');
    say();
    say(
      '| seconds after the stop | master source | master bound vs reference | worst error vs true (probe) |',
    );
    say('|---|---|---|---|');
    const stopped = machineTime();
    for (let i = 0; i < 4; i++) {
      await sleep(2000);
      const status = rig.cluster.host('h2').clocks.sync!.timeSource();
      const worst = Math.max(...(await probe(rig.cluster)).map((r) => Math.abs(r.errorMs)));
      say(
        `| ${f((machineTime() - stopped) / 1000, 1)} | ${status.source} | ${f(status.referenceErrorBoundMs ?? NaN, 3)} ms | ${f(worst, 3)} ms |`,
      );
    }
    say();
  } finally {
    sampling = false;
    await stopRig(rig);
  }
}

async function main(): Promise<void> {
  const chronyDir = join(tmpdir(), `measure-time-chrony-${process.pid}`);
  const chrony = new LocalChrony({
    binary: ensureChrony(),
    dir: chronyDir,
    port: await freeUdpPort(),
  });
  chrony.start();
  await sleep(500);
  say(
    `Measured ${header.startedAt} at ${header.commit.slice(0, 12)}, node ${process.version}; command: ${header.command}`,
  );
  say();
  const began = machineTime();
  try {
    if (parts.has('accuracy')) await part1(chrony);
    if (parts.has('overhead')) await part2(chrony);
    if (parts.has('convergence')) await part3and4(chrony);
  } finally {
    await chrony.stop();
    rmSync(chronyDir, { recursive: true, force: true });
  }
  say(`Took ${f((machineTime() - began) / 1000, 0)} s.`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${lines.join('\n')}\n`);
  if (values.json) writeMeasurementJson(values.json, report);
}

void main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
