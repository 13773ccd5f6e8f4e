/**
 * An existing data dir keeps working (issue 14, §7): a data dir from before the archive (no
 * version file, no `postgres/`, payments in etcd under today's `/pay/v2` layout) is backed up
 * (a copy of the etcd member's directory, made before etcd starts) and migrated by `npm start`;
 * its payments are then archived like any others, and retries of them replay byte for byte.
 *
 * The old data dir is made by the launcher itself with a 1 h hot window (nothing is archived),
 * stopped, then stripped of what the archive added: the version file and `postgres/`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION_FILE } from '../../dev/cluster/data-dir-version';
import { freePort } from '../../dev/cluster/free-port';
import { postPayment, request, useApiKey } from '../../dev/cluster/http';
import { type ManagedProcess, waitFor } from '../../dev/cluster/managed-process';
import { startLauncher } from '../support/launcher';

const dir = mkdtempSync(join(tmpdir(), 'payments-migration-'));
const dataDir = join(dir, 'data');
let launcher: ManagedProcess | undefined;

afterAll(async () => {
  await launcher?.stop(20_000);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function launch(log: string, flags: string[]): Promise<void> {
  launcher = startLauncher(dataDir, join(dir, log), flags, { ...process.env, LOG_LEVEL: 'warn' });
  await waitFor(
    `npm start (${log}) to be ready`,
    async () => existsSync(join(dir, log)) && readFileSync(join(dir, log), 'utf8').includes('ready: try'),
    120_000,
  );
}

describe('a data dir from before the archive', () => {
  it('is backed up, migrated, its payments archived, and retries of them replay', async () => {
    const [client, peer, hostPort] = [await freePort(), await freePort(), await freePort()];
    const host = `http://127.0.0.1:${hostPort}`;
    const common = [
      ...['--etcd-members', '1', '--hosts', '1'],
      ...['--etcd-client-ports', String(client), '--etcd-peer-ports', String(peer)],
      ...['--host-ports', String(hostPort)],
    ];
    await launch('old.log', [...common, '--ledger-hot-window', '1h']);
    useApiKey(readFileSync(join(dataDir, 'dev-admin-key'), 'utf8').trim());
    const old = Array.from({ length: 20 }, (_, i) => ({
      id: `old-${i}`,
      payer: i % 2 ? 'old-a' : 'old-b',
      payee: i % 2 ? 'old-b' : 'old-a',
      amount: 100 + i,
      currency: 'EUR',
    }));
    const bodies: string[] = [];
    for (const p of old) {
      const r = await postPayment(host, p);
      expect(r.status).toBe(201);
      bodies.push(r.text);
    }
    await launcher!.stop(20_000);
    rmSync(join(dataDir, 'postgres'), { recursive: true, force: true });
    rmSync(join(dataDir, VERSION_FILE));

    await launch('new.log', [...common, '--ledger-hot-window', '1s']);
    const startLog = readFileSync(join(dir, 'new.log'), 'utf8');
    expect(startLog).toMatch(/version 1\): etcd members n1 backed up to .*backups\/v1-/);
    const backups = readdirSync(join(dataDir, 'backups'));
    expect(backups).toHaveLength(1);
    expect(existsSync(join(dataDir, 'backups', backups[0]!, 'n1', 'member'))).toBe(true);
    const version = JSON.parse(readFileSync(join(dataDir, VERSION_FILE), 'utf8'));
    expect(version).toMatchObject({ version: 2, migrations: [{ from: 1, to: 2 }] });

    const archived = async () => {
      const { text } = await request(`${host}/metrics`);
      return Number(/^archived_payments_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
    };
    await waitFor('the old payments to be archived', async () => (await archived()) >= old.length, 60_000);
    for (const [i, p] of old.entries()) {
      const again = await postPayment(host, p);
      expect(again.status).toBe(200);
      expect(again.text).toBe(bodies[i]);
      expect((await postPayment(host, { ...p, amount: p.amount + 1 })).status).toBe(409);
      expect((await request(`${host}/payments/${p.id}?payer=${p.payer}`)).text).toBe(bodies[i]);
    }
    // A third start finds version 2 and backs up nothing more.
    await launcher!.stop(20_000);
    await launch('third.log', [...common, '--ledger-hot-window', '1s']);
    expect(readdirSync(join(dataDir, 'backups'))).toHaveLength(1);
    expect(readFileSync(join(dir, 'third.log'), 'utf8')).not.toMatch(/backed up/);
  }, 420_000);
});
