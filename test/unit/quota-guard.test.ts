/**
 * The quota guard's decisions (coordination/cluster/quota-guard.ts) over a fake status source,
 * and what a host answers from them, in-process: 503 storage_full on payments with Retry-After,
 * reads served, /ready, /cluster and /metrics saying why.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../coordination/clock/clock';
import {
  archivalHoldReason,
  type EtcdAlarm,
  type MemberStorage,
  QuotaGuard,
  type StorageStatusSource,
} from '../../coordination/cluster/quota-guard';
import { readHostConfig } from '../../functions/config';
import { createMetrics, watchStorage } from '../../functions/observability/metrics';
import { STORAGE_FULL_MESSAGE } from '../../ledger/errors';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { createTestApp, quietCluster } from '../support/test-app';

const MiB = 1024 ** 2;
const QUOTA = 32 * MiB; // mark: 28.8 MiB

/** A status source whose answers the test sets between polls. */
function fakeSource(sizes: Record<string, number | null>) {
  const state = { sizes, alarms: [] as EtcdAlarm[], fail: false, hang: false, namesKnown: true };
  const source: StorageStatusSource = {
    members: async () => {
      if (state.hang) return new Promise<never>(() => {});
      if (state.fail) throw new Error('etcd unreachable');
      return Object.entries(state.sizes).map(
        ([name, size], i): MemberStorage => ({
          name: state.namesKnown ? name : `https://127.0.0.1:${2379 + i}`,
          clientUrl: `https://127.0.0.1:${2379 + i}`,
          memberId: String(100 + i),
          dbSizeBytes: size,
          dbSizeInUseBytes: size === null ? null : size / 2,
        }),
      );
    },
    alarms: async () => state.alarms,
  };
  return { state, source };
}

function guardOver(sizes: Record<string, number | null>) {
  const { state, source } = fakeSource(sizes);
  const logs: Record<string, unknown>[] = [];
  const guard = new QuotaGuard({ source, quotaBytes: QUOTA, deadlineMs: 100, log: (e) => logs.push(e) });
  return { state, guard, logs };
}

describe('quota guard decisions', () => {
  it('lets payments through while every member is under 90 % of the quota', async () => {
    const { guard } = guardOver({ n1: 20 * MiB, n2: 28 * MiB, n3: 1 * MiB });
    const report = await guard.poll();
    expect(report).toMatchObject({ full: false, reason: null, quotaBytes: QUOTA, alarms: [] });
    expect(report.highWaterBytes).toBe(Math.floor(QUOTA * 0.9));
    expect(report.members.map((m) => m.overMark)).toEqual([false, false, false]);
  });

  it('refuses payments once one member is past the mark, and resumes by itself when it is back under', async () => {
    const { state, guard, logs } = guardOver({ n1: 20 * MiB, n2: 29 * MiB, n3: 20 * MiB });
    const past = await guard.poll();
    expect(past.full).toBe(true);
    expect(past.reason).toMatch(/n2.*29\.0 MiB.*high-water mark of 28\.8 MiB.*quota 32\.0 MiB/);
    expect(logs.at(-1)).toMatchObject({ level: 'warn', msg: 'payments paused: etcd storage' });
    state.sizes.n2 = 10 * MiB; // compacted and defragmented
    const back = await guard.poll();
    expect(back).toMatchObject({ full: false, reason: null });
    expect(logs.at(-1)).toMatchObject({
      level: 'info',
      msg: 'payments resumed: etcd storage back under the mark',
    });
  });

  it('keeps the last known size of a member that stops answering, so a full member going quiet does not reopen payments', async () => {
    const { state, guard } = guardOver({ n1: 30 * MiB, n2: 1 * MiB });
    await guard.poll();
    state.sizes.n1 = null;
    const report = await guard.poll();
    expect(report.full).toBe(true);
    expect(report.members.find((m) => m.name === 'n1')).toMatchObject({ dbSizeBytes: 30 * MiB, stale: true });
  });

  it('follows a member by its URL: a size read before its name was known does not outlive it (payments resume)', async () => {
    const { state, guard } = guardOver({ n1: 30 * MiB });
    state.namesKnown = false; // the member list did not answer: members are named by URL
    expect((await guard.poll()).full).toBe(true);
    state.namesKnown = true;
    state.sizes.n1 = 10 * MiB;
    const report = await guard.poll();
    expect(report.full).toBe(false);
    expect(report.members).toEqual([
      expect.objectContaining({ name: 'n1', dbSizeBytes: 10 * MiB, stale: false }),
    ]);
  });

  it('keeps the last readings when a poll fails or never answers (deadline), and says why', async () => {
    const { state, guard } = guardOver({ n1: 30 * MiB });
    await guard.poll();
    state.fail = true;
    expect(await guard.poll()).toMatchObject({ full: true, pollError: 'etcd unreachable' });
    state.fail = false;
    state.hang = true;
    const started = Date.now();
    expect(await guard.poll()).toMatchObject({ full: true, pollError: 'no answer within 100 ms' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('treats a NOSPACE raised while every member is far under the quota as an incident, and refuses payments under it', async () => {
    const { state, guard, logs } = guardOver({ n1: 1 * MiB, n2: 1 * MiB });
    const raisedSeen: string[] = [];
    guard.onReport((_, raised) =>
      raisedSeen.push(...raised.map((a) => `${a.member}:${a.alarm}:${a.explained}`)),
    );
    state.alarms = [{ memberId: '101', alarm: 'NOSPACE' }];
    const report = await guard.poll();
    expect(report.full).toBe(true);
    expect(report.reason).toMatch(/NOSPACE.*n2/);
    expect(report.alarms).toEqual([{ member: 'n2', alarm: 'NOSPACE', explained: false }]);
    expect(logs.filter((e) => e.level === 'error')).toHaveLength(1);
    await guard.poll(); // still raised: not a new incident
    expect(raisedSeen).toEqual(['n2:NOSPACE:false']);
    expect(logs.filter((e) => e.level === 'error')).toHaveLength(1);
    state.alarms = [];
    expect((await guard.poll()).full).toBe(false);
    expect(logs.at(-2)).toMatchObject({ level: 'info', msg: 'etcd alarm cleared', alarm: 'NOSPACE' });
  });

  it('counts a NOSPACE raised by a member past the mark as explained (a warning, not an incident)', async () => {
    const { state, guard, logs } = guardOver({ n1: 31 * MiB });
    state.alarms = [{ memberId: '100', alarm: 'NOSPACE' }];
    const report = await guard.poll();
    expect(report.alarms).toEqual([{ member: 'n1', alarm: 'NOSPACE', explained: true }]);
    expect(logs.some((e) => e.level === 'error')).toBe(false);
  });

  it('treats CORRUPT as an incident whatever the size; it does not itself pause payments (etcd refuses them)', async () => {
    const { state, guard, logs } = guardOver({ n1: 31 * MiB, n2: 1 * MiB });
    state.sizes.n1 = 1 * MiB;
    state.alarms = [{ memberId: '999', alarm: 'CORRUPT' }];
    const report = await guard.poll();
    expect(report.alarms).toEqual([{ member: '999', alarm: 'CORRUPT', explained: false }]);
    expect(report.full).toBe(false);
    expect(logs.find((e) => e.level === 'error')).toMatchObject({ alarm: 'CORRUPT' });
  });
});

describe('archival hold (archivalHoldReason)', () => {
  it('regression: a 64 MiB soak catch-up raised NOSPACE with archival writes past the mark; archival holds halfway between the mark and the quota', async () => {
    // mark 28.8 MiB, quota 32 MiB: archival goes on past the mark (it empties etcd), stops at 30.4 MiB.
    const { state, guard } = guardOver({ n1: 29 * MiB, n2: 20 * MiB, n3: 20 * MiB });
    const pastMark = await guard.poll();
    expect(pastMark.full).toBe(true);
    expect(archivalHoldReason(pastMark)).toBeUndefined();
    state.sizes.n1 = 30.5 * MiB;
    expect(archivalHoldReason(await guard.poll())).toMatch(/n1.*within/);
    state.sizes.n1 = 10 * MiB;
    state.alarms = [{ memberId: '101', alarm: 'NOSPACE' }];
    expect(archivalHoldReason(await guard.poll())).toMatch(/NOSPACE/);
    state.alarms = [];
    expect(archivalHoldReason(await guard.poll())).toBeUndefined();
  });
});

describe('a host over the quota guard', () => {
  async function hostOver(sizes: Record<string, number | null>) {
    const { state, guard, logs } = guardOver(sizes);
    const metrics = createMetrics();
    watchStorage(metrics, guard);
    const ledger = new MemoryLedger();
    const cluster = { ...quietCluster('h1'), storage: () => guard.report() };
    const app = createTestApp({ ledger, clock: systemClock, hostId: 'h1', cluster, metrics });
    await guard.poll();
    return { state, guard, app, logs };
  }
  const pay = (id: string) =>
    JSON.stringify({ id, payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' });
  const post = (app: Awaited<ReturnType<typeof hostOver>>['app'], id: string) =>
    app.request('/payments', {
      method: 'POST',
      body: pay(id),
      headers: { 'content-type': 'application/json' },
    });

  it('storage_full leaks no database sizes: the 503 and /ready carry a stable message, the sizes go to the log (issue 17 §7)', async () => {
    const { state, guard, app, logs } = await hostOver({ n1: 10 * MiB });
    state.sizes.n1 = 30 * MiB;
    state.alarms = [{ memberId: '100', alarm: 'NOSPACE' }];
    await guard.poll();
    const refused = await post(app, 'sizes');
    expect(refused.status).toBe(503);
    const { error } = (await refused.json()) as { error: { message: string } };
    expect(error.message).toBe(STORAGE_FULL_MESSAGE);
    const ready = (await (await app.request('/ready')).json()) as { reason: string };
    expect(ready.reason).toBe(
      'payments refused (storage_full): etcd storage past its high-water mark on n1; etcd NOSPACE alarm on n1',
    );
    for (const text of [error.message, ready.reason]) expect(text).not.toMatch(/\d+(\.\d+)? ?[KMG]i?B|quota/);
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'payments paused: etcd storage',
        reason: expect.stringContaining('30.0 MiB'),
      }),
    );
  });

  it('answers payments 503 storage_full with Retry-After past the mark, serves reads, and says why on /ready, /cluster and /metrics', async () => {
    const { state, guard, app } = await hostOver({ n1: 10 * MiB });
    expect((await post(app, 'before')).status).toBe(201);
    state.sizes.n1 = 30 * MiB;
    await guard.poll();

    const refused = await post(app, 'during');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ error: { code: 'storage_full', retryable: true } });
    expect((await app.request('/payments/before')).status).toBe(200);
    expect((await app.request('/payments?account=alice')).status).toBe(200);

    const ready = await app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      reason: expect.stringMatching(/storage_full.*n1/),
    });
    const cluster = (await (await app.request('/cluster')).json()) as { etcd: { storage: unknown } };
    expect(cluster.etcd.storage).toMatchObject({
      full: true,
      quotaBytes: QUOTA,
      members: [{ name: 'n1', dbSizeBytes: 30 * MiB }],
    });
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toContain('storage_full 1');
    expect(metrics).toContain(`etcd_db_size_bytes{member="n1"} ${30 * MiB}`);
    expect(metrics).toContain(`etcd_quota_bytes ${QUOTA}`);
    expect(metrics).toContain('shed_requests_total{reason="storage_full"} 1');

    state.sizes.n1 = 10 * MiB;
    await guard.poll();
    expect((await post(app, 'during')).status).toBe(201);
    expect(await (await app.request('/ready')).json()).toMatchObject({ status: 'ready' });
  });

  it('counts an unexplained alarm in /metrics and shows it in /cluster', async () => {
    const { state, guard, app } = await hostOver({ n1: 1 * MiB });
    state.alarms = [{ memberId: '100', alarm: 'NOSPACE' }];
    await guard.poll();
    await guard.poll();
    expect((await post(app, 'p1')).status).toBe(503);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toContain('etcd_alarms_raised_total{alarm="NOSPACE",explained="false"} 1');
    expect(metrics).toContain('etcd_alarms_active{alarm="NOSPACE",explained="false"} 1');
    const cluster = (await (await app.request('/cluster')).json()) as {
      etcd: { storage: { alarms: unknown } };
    };
    expect(cluster.etcd.storage.alarms).toEqual([{ member: 'n1', alarm: 'NOSPACE', explained: false }]);
  });
});

describe('quota guard configuration (functions/config.ts)', () => {
  it("defaults to etcd's own 2 GiB quota, a 90 % mark and a 1 s poll", () => {
    expect(readHostConfig({}).quota).toEqual({
      quotaBytes: 2 * 1024 ** 3,
      highWaterRatio: 0.9,
      intervalMs: 1000,
    });
  });

  it('takes the quota the launcher gave etcd, and refuses a mark outside (0, 1]', () => {
    const { quota } = readHostConfig({ ETCD_QUOTA_BYTES: String(QUOTA), ETCD_QUOTA_HIGH_WATER: '0.8' });
    expect(quota).toMatchObject({ quotaBytes: QUOTA, highWaterRatio: 0.8 });
    expect(() => readHostConfig({ ETCD_QUOTA_HIGH_WATER: '1.5' })).toThrow(/ETCD_QUOTA_HIGH_WATER/);
    expect(() => readHostConfig({ ETCD_QUOTA_BYTES: '0' })).toThrow(/ETCD_QUOTA_BYTES/);
  });
});
