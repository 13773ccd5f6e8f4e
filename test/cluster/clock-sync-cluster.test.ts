/**
 * Clock synchronization and the cluster event log with real processes: a three-member etcd
 * cluster and three function host processes started with offsets of −2 s, 0 and +1.5 s and drifts
 * of +200, −200 and 0 ppm (CLOCK_OFFSET_MS / CLOCK_DRIFT_PPM, as `npm start --clock-offsets`
 * passes them). The hosts synchronize over a static cluster view led by h2 (the etcd membership
 * view is not wired in yet). True time is this machine's clock, so each host's corrected clock is
 * checked against it, through GET /time, within the uncertainty of that request's round trip.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineTime } from '../../coordination/clock/clock';
import { HLC_HEADER } from '../../coordination/clock/hlc';
import type { TimeReading } from '../../coordination/clock-sync/time-peer';
import { EtcdEventStore } from '../../coordination/events/etcd-event-store';
import type { ClusterEvent } from '../../coordination/events/event-types';
import { withApiKey } from '../../dev/cluster/http';
import { eventStoreContract } from '../contracts/event-store-contract';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const OFFSETS = [-2000, 0, 1500];
const DRIFTS = [200, -200, 0];

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster({
    hosts: 3,
    hostEnv: { CLOCK_SYNC_INTERVAL_MS: '500', EVENTS_FLUSH_MS: '200', LEDGER_ROOT: `/test/${randomUUID()}` },
    hostEnvFor: (i, hosts) => ({
      CLOCK_OFFSET_MS: String(OFFSETS[i]),
      CLOCK_DRIFT_PPM: String(DRIFTS[i]),
      CLUSTER_HOSTS: hosts.map((h) => `${h.id}=http://127.0.0.1:${h.port}`).join(','),
      CLUSTER_LEADER: 'h2',
    }),
    // Measure the skew before the first synchronization, not after.
    hostsUntil: 'health',
  });
});
afterAll(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One host's corrected (or raw) clock minus true time, from the fastest of `samples` GET /time. */
async function errorAgainstTrueTime(
  url: string,
  samples = 10,
  clock: 'corrected' | 'raw' = 'corrected',
): Promise<{ errorMs: number; uncertaintyMs: number }> {
  let best = { errorMs: 0, uncertaintyMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < samples; i++) {
    const sent = machineTime();
    const reading = (await (await fetch(`${url}/time`)).json()) as TimeReading;
    const received = machineTime();
    const uncertaintyMs = (received - sent) / 2;
    if (uncertaintyMs < best.uncertaintyMs)
      best = { errorMs: reading[clock] - (sent + received) / 2, uncertaintyMs };
  }
  return best;
}

describe('clock synchronization across host processes', () => {
  it('converges the three skewed hosts to within 5 ms of each other, checked against true time', async () => {
    const urls = cluster.fleet.urls();
    // Before sync means the raw clocks: read them rather than race the first synchronization.
    const before = await Promise.all(urls.map((u) => errorAgainstTrueTime(u, 3, 'raw')));
    // Ready means synchronized and within the 500 ms max offset; then wait for the slew to finish.
    await eventually('every host ready', async () =>
      (await Promise.all(urls.map((u) => fetch(`${u}/ready`)))).every((r) => r.ok),
    );
    await eventually('corrections slewed in', async () => {
      const readings = await Promise.all(
        urls.map(async (u) => (await (await fetch(`${u}/time`)).json()) as TimeReading),
      );
      return readings.every((r) => r.synced && Math.abs(r.time - r.corrected) < 1);
    });
    await sleep(1500); // a few more rounds
    const after = await Promise.all(urls.map((u) => errorAgainstTrueTime(u)));
    const errors = after.map((a) => a.errorMs);
    const pairwise = Math.max(...errors) - Math.min(...errors);
    const uncertainty = Math.max(...after.map((a) => a.uncertaintyMs));
    console.log(
      `processes: vs true time before ${before.map((b) => b.errorMs.toFixed(1)).join(', ')} ms; after ${errors
        .map((e) => e.toFixed(3))
        .join(
          ', ',
        )} ms (±${uncertainty.toFixed(3)} ms per reading); largest pairwise ${pairwise.toFixed(3)} ms`,
    );
    expect(
      Math.max(...before.map((b) => b.errorMs)) - Math.min(...before.map((b) => b.errorMs)),
    ).toBeGreaterThan(3000); // configured 3.5 s apart
    expect(pairwise).toBeLessThanOrEqual(5 + 2 * uncertainty);
    for (const e of errors) expect(Math.abs(e)).toBeLessThanOrEqual(10 + uncertainty);
  });

  it('orders a payment on h1, its replay on h2 and a query on h3 in GET /events, on any host', async () => {
    const [h1, h2, h3] = cluster.fleet.urls() as [string, string, string];
    const id = `p-${randomUUID()}`;
    const body = JSON.stringify({ id, payer: 'alice', payee: 'bob', amount: 500, currency: 'EUR' });
    const post = (url: string, hlc: string | null) =>
      fetch(`${url}/payments`, {
        method: 'POST',
        headers: withApiKey({ 'content-type': 'application/json', ...(hlc ? { [HLC_HEADER]: hlc } : {}) }),
        body,
      });
    const first = await post(h1, null);
    expect(first.status).toBe(201);
    const replay = await post(h2, first.headers.get(HLC_HEADER));
    expect(replay.status).toBe(200);
    const query = await fetch(`${h3}/payments/${id}`, {
      headers: withApiKey({ [HLC_HEADER]: replay.headers.get(HLC_HEADER)! }),
    });
    expect(query.status).toBe(200);

    let chain: ClusterEvent[] = [];
    let all: ClusterEvent[] = [];
    await eventually('the chain in the merged log', async () => {
      all = [];
      let from = '';
      for (let page = 0; page < 50; page++) {
        const response = await fetch(
          `${h3}/events?limit=200${from ? `&from=${encodeURIComponent(from)}` : ''}`,
          { headers: withApiKey(undefined) },
        );
        const body = (await response.json()) as { events: ClusterEvent[]; next: string | null };
        all.push(...body.events);
        if (!body.next || body.events.length < 200) break;
        from = body.next;
      }
      chain = all.filter((e) => e.details.id === id && e.type !== 'payment.received');
      return chain.length === 3;
    });
    expect(chain.map((e) => `${e.type}@${e.host}`)).toEqual([
      'payment.committed@h1',
      'payment.replayed@h2',
      'payment.queried@h3',
    ]);
    // The merged log is in HLC order throughout, and every event keeps raw and corrected time.
    const hlcs = all.map((e) => e.hlc);
    expect(hlcs).toEqual([...hlcs].sort());
    expect(all.every((e) => typeof e.rawAt === 'string' && typeof e.at === 'string')).toBe(true);
    // Hosts started skewed recorded events before their first correction; those carry corrected times.
    const types = new Set(all.map((e) => e.type));
    expect(types).toContain('clock.adjusted');
    expect(types).toContain('leader.changed');
  });

  it('rejects a bad events query with a 400 and an adjustment from a host that is not the master with a 409', async () => {
    const [h1] = cluster.fleet.urls() as [string];
    const bad = await fetch(`${h1}/events?limit=0`, { headers: withApiKey(undefined) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_request' } });
    const stale = await fetch(`${h1}/time/adjust`, {
      method: 'POST',
      headers: withApiKey({ 'content-type': 'application/json' }),
      body: JSON.stringify({ master: 'h3', deltaMs: 1000, errorMs: 1, round: 1, fencingToken: '1' }),
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: 'stale_master' } });
  });
});

eventStoreContract(
  'etcd',
  async () => new EtcdEventStore({ client: cluster.client(), root: `/test/${randomUUID()}` }),
);
