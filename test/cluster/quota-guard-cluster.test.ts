/**
 * The quota guard on real processes (coordination/cluster/quota-guard.ts): three etcd members
 * with a 32 MiB quota (--quota-backend-bytes, so the mark is 28.8 MiB) and one host told so
 * (ETCD_QUOTA_BYTES, passed by the scratch cluster as the launcher does). etcd 3.4 lets nested transactions past its quota, so the host must stop
 * payments itself before etcd's NOSPACE; and it must resume by itself once an operator has
 * reclaimed space with compaction and `payctl maintain` (run as its own process, with the root
 * credential whose files the state file names, as `npm start` writes it).
 *
 * The database is filled by root with overwrites of one scratch key outside the ledger, since
 * payments alone would take tens of thousands of commits; what the guard reads is the size.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmAction, AlarmType, type Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_USER } from '../../dev/cluster/certificates';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';
import { request } from '../../dev/cluster/http';
import { type LocalClusterState, STATE_FILE_NAME } from '../../dev/cluster/local-control';
import { waitFor } from '../../dev/cluster/managed-process';
import { startTestCluster, type TestCluster } from '../support/test-cluster';

const MiB = 1024 ** 2;
const QUOTA = 32 * MiB;
const MARK = Math.floor(QUOTA * 0.9);

let cluster: TestCluster;
let root: Etcd3;
let perMember: Etcd3[];
let host: string;
let dataDir: string;
const run = `qg${Date.now().toString(36)}`;
let n = 0;

beforeAll(async () => {
  cluster = await startTestCluster({
    hosts: 1,
    etcdQuotaBytes: QUOTA, // the scratch cluster tells the host too (ETCD_QUOTA_BYTES)
    hostEnv: { QUOTA_GUARD_INTERVAL_MS: '250' },
  });
  root = cluster.client({ callDeadlineMs: 10_000 });
  perMember = cluster.etcd
    .clientUrls()
    .map((url) => cluster.client({ endpoints: [url], callDeadlineMs: 10_000 }));
  host = cluster.fleet.urls()[0]!;
  // The state file `npm start` keeps, naming this cluster's members and root credential files.
  dataDir = join(cluster.dir, 'operator');
  mkdirSync(dataDir);
  const credentials = cluster.etcd.credentials(ROOT_USER)!;
  const state: LocalClusterState = {
    version: 1,
    supervisorPid: process.pid,
    controlUrl: 'http://127.0.0.1:9',
    dataDir,
    etcdEndpoints: cluster.etcd.clientUrls(),
    etcdRootCredentials: {
      ca: String(credentials.ca),
      cert: String(credentials.cert),
      key: String(credentials.key),
    },
    processes: [],
  };
  writeFileSync(join(dataDir, STATE_FILE_NAME), JSON.stringify(state));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function pay(id = `${run}-${n++}`) {
  return request<{ error?: { code: string; retryable: boolean } }>(`${host}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, payer: 'alice', payee: 'bob', amount: 100, currency: 'EUR' }),
  });
}

interface StorageView {
  full: boolean;
  highWaterBytes: number;
  members: { name: string; dbSizeBytes: number; dbSizeInUseBytes: number | null }[];
  alarms: { member: string; alarm: string; explained: boolean }[];
}
const storage = async () =>
  (await request<{ etcd: { storage: StorageView } }>(`${host}/cluster`)).body.etcd.storage;
const metrics = async () => (await request(`${host}/metrics`)).text;

function payctlMaintain(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/payctl.js'), 'maintain', '--json', '--data-dir', dataDir],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PAYCTL_URL: host, PAYMENTS_API_KEY: cluster.adminKey },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('etcd past the high-water mark', () => {
  it('refuses payments with 503 storage_full and Retry-After while reads work, and resumes by itself after compaction and payctl maintain', async () => {
    const before = `${run}-before`;
    expect((await pay(before)).status).toBe(201);

    // Fill past the mark and stay under the quota: overwrites keep every old value until compacted.
    // A member reports its size as of its last backend commit (every 100 ms), so each step is
    // measured after a pause, on every member, and the steps shrink near the mark.
    for (let i = 0; i < 200; i++) {
      const largest = Math.max(
        ...(await Promise.all(perMember.map(async (c) => Number((await c.maintenance.status()).dbSize)))),
      );
      if (largest >= MARK + MiB / 4) break;
      await root.put('/scratch/junk').value(Buffer.alloc(largest < MARK - 4 * MiB ? MiB : MiB / 4, 7));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await waitFor('the host to see the mark passed', async () => (await storage()).full, 10_000);
    expect((await storage()).alarms).toEqual([]); // stopped before etcd's own quota

    const refused = await pay();
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'storage_full', retryable: true });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await request(`${host}/payments/${before}`)).status).toBe(200);
    expect((await request(`${host}/payments?account=alice`)).status).toBe(200);
    const ready = await request<{ status: string; reason: string }>(`${host}/ready`, {
      headers: { authorization: '' },
    });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', reason: expect.stringContaining('storage_full') });
    expect(await metrics()).toMatch(/^storage_full 1$/m);
    expect(await metrics()).toMatch(new RegExp(`^etcd_quota_bytes ${QUOTA}$`, 'm'));

    // Compaction frees pages inside the file, but etcd holds the file's size against its quota.
    await root.delete().key('/scratch/junk');
    const head = Number((await root.get('/scratch/none').exec()).header.revision);
    await root.kv.compact({ revision: head, physical: true });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await pay()).status).toBe(503);

    const maintained = await payctlMaintain();
    expect(maintained.code, maintained.stderr).toBe(0);
    const result = JSON.parse(maintained.stdout) as {
      members: { defragmented: boolean; dbSizeAfter: number }[];
      highWaterBytes: number;
    };
    expect(result.highWaterBytes).toBe(MARK);
    expect(result.members).toHaveLength(3);
    for (const m of result.members) {
      expect(m.defragmented).toBe(true);
      expect(m.dbSizeAfter).toBeLessThan(MARK);
    }
    await waitFor('payments to resume', async () => (await pay()).status === 201, 10_000);
    expect(await metrics()).toMatch(/^storage_full 0$/m);
  }, 180_000);
});

describe('an etcd alarm raised by hand', () => {
  it('shows in /cluster and /metrics as unexplained, is logged as an error, refuses payments while reads keep working, and clears with payctl maintain', async () => {
    const memberId = String((await root.maintenance.status()).header.member_id);
    await root.maintenance.alarm({
      action: AlarmAction.Activate,
      memberID: memberId,
      alarm: AlarmType.Nospace,
    });
    await waitFor('the host to see the alarm', async () => (await storage()).alarms.length > 0, 10_000);
    const seen = await storage();
    expect(seen.alarms).toEqual([
      { member: expect.stringMatching(/^n[123]$/), alarm: 'NOSPACE', explained: false },
    ]);
    expect(seen.full).toBe(true);
    // Regression: etcd lists alarms among a Status's errors, and every member showed as down.
    const members = (await request<{ etcd: { members: { healthy: boolean }[] } }>(`${host}/cluster`)).body
      .etcd.members;
    expect(members.map((m) => m.healthy)).toEqual([true, true, true]);

    const refused = await pay();
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('storage_full');
    const text = await metrics();
    expect(text).toMatch(/^etcd_alarms_raised_total\{alarm="NOSPACE",explained="false"\} 1$/m);
    expect(text).toMatch(/^etcd_alarms_active\{alarm="NOSPACE",explained="false"\} 1$/m);
    // The host buffers its log 4 KiB at a time: refused payments add access lines until it is written.
    await waitFor(
      'the incident in the host log',
      async () => {
        await pay();
        return readFileSync(join(cluster.dir, 'h1.log'), 'utf8')
          .split('\n')
          .some((line) => line.includes('"level":"error"') && line.includes('NOSPACE'));
      },
      15_000,
    );

    // Regression: NOSPACE answers to the host's own puts (event shipping, every 500 ms) opened the
    // etcd client's circuit breaker on every member, and then reads failed too, with 503.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (let i = 0; i < 5; i++) {
      expect((await request(`${host}/payments?account=alice`)).status).toBe(200);
      expect((await request(`${host}/cluster`)).status).toBe(200);
    }
    // Other writes are refused by etcd itself, and say so with the same code.
    const key = await request<{ error: { code: string } }>(`${host}/admin/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accounts: ['carol'], scopes: [] }),
    });
    expect(key.status).toBe(503);
    expect(key.body.error.code).toBe('storage_full');

    const maintained = await payctlMaintain();
    expect(maintained.code, maintained.stderr).toBe(0);
    expect(JSON.parse(maintained.stdout)).toMatchObject({ disarmed: [{ alarm: 'NOSPACE' }], alarms: [] });
    await waitFor('payments to resume', async () => (await pay()).status === 201, 10_000);
    expect((await storage()).alarms).toEqual([]);
    expect(await metrics()).not.toMatch(/^etcd_alarms_active\{[^}]*\} [1-9]/m);
  }, 120_000);
});
