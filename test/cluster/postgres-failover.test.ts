/**
 * The archive's PostgreSQL pair (dev/cluster/postgres-cluster.ts): a commit is acknowledged only
 * once the synchronous standby has it, and the operator's failover step (crash of the primary,
 * promoteStandby) keeps every acknowledged row and takes inserts again; rebuildStandby then
 * restores a synchronous standby.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensurePostgres } from '../../dev/cluster/ensure-postgres';
import { PostgresServer } from '../../dev/cluster/postgres-server';
import { PgArchive } from '../../ledger/archive/pg-archive';
import { ArchiveUnavailableError } from '../../ledger/errors';
import type { StoredPayment } from '../../ledger/payment';
import { stored } from '../contracts/payment-archive-contract';
import { startTestPostgres, type TestPostgres } from '../support/test-postgres';

let postgres: TestPostgres;
const opened: PgArchive[] = [];
const open = (url: string, statementTimeoutMs?: number) => {
  const archive = new PgArchive({ url, statementTimeoutMs });
  opened.push(archive);
  return archive;
};

beforeAll(async () => {
  postgres = await startTestPostgres({ standby: true });
}, 90_000);

afterAll(async () => {
  await Promise.all(opened.map((a) => a.close().catch(() => {})));
  await postgres?.stop();
});

it('acknowledges a commit only once the standby has it, and survives losing the primary', async () => {
  const { cluster } = postgres;
  const account = `merchant-${Date.now()}`;
  const acknowledged: StoredPayment[] = [];
  const archive = open(cluster.urls().host, 500);
  for (let batch = 0; batch < 10; batch++) {
    const payments = Array.from({ length: 50 }, (_, i) =>
      stored(i % 2 ? { payer: account } : { payee: account }),
    );
    await archive.insertMany(payments);
    acknowledged.push(...payments);
  }

  // Without its standby, the primary cannot confirm a commit: the insert is not acknowledged.
  const standby = cluster.standby!;
  await standby.stop();
  const unconfirmed = stored({ payer: account });
  // statement_timeout does not cover the wait (PostgreSQL disables it before committing): the
  // client-side bound (pg-connection.ts) ends it.
  const started = Date.now();
  await expect(archive.insertMany([unconfirmed])).rejects.toBeInstanceOf(ArchiveUnavailableError);
  expect(Date.now() - started).toBeLessThan(5000);
  await standby.start();
  await cluster.waitSynchronous();
  // The retry is idempotent: the row the primary kept locally is the same payment.
  expect((await archive.insertMany([unconfirmed])).inserted).toBeLessThanOrEqual(1);
  acknowledged.push(unconfirmed);

  // The operator's failover: the primary crashes, the standby is promoted.
  const oldPrimary = cluster.primary;
  await oldPrimary.kill();
  await cluster.promoteStandby();
  expect(cluster.primary).toBe(standby);
  const promoted = open(cluster.urls().host);
  for (const p of acknowledged) expect(await promoted.get(p.id, p.payer)).toEqual(p);
  const history = await promoted.history({ account, limit: 1000 });
  expect(history.payments).toEqual([...acknowledged].sort((a, b) => a.sequence - b.sequence));
  const after = stored({ payer: account });
  expect(await promoted.insertMany([after])).toEqual({ inserted: 1, alreadyArchived: 0 });

  // The old primary comes back as the new primary's synchronous standby.
  await cluster.rebuildStandby();
  await cluster.waitSynchronous();
  expect(cluster.standby).toBe(oldPrimary);
  expect(oldPrimary.standby).toBe(true);
  const last = stored({ payer: account });
  expect(await promoted.insertMany([last])).toEqual({ inserted: 1, alreadyArchived: 0 });
  // The standby has flushed every acknowledged commit; replaying it may take a moment more.
  const countOnStandby = async () =>
    (
      await cluster.sql<{ n: number }>(
        'SELECT count(*)::int AS n FROM payments WHERE payer = $1',
        [account],
        {
          database: cluster.database,
          server: oldPrimary,
        },
      )
    )[0]!.n;
  await expect.poll(countOnStandby).toBe(acknowledged.filter((p) => p.payer === account).length + 2);
}, 120_000);

it('stops a postmaster left running on its data directory (through postmaster.pid) before starting', async () => {
  const { cluster } = postgres;
  const left = cluster.primary; // as if its launcher had been killed: nobody will stop it
  expect(left.process.running).toBe(true);
  const successor = new PostgresServer({
    name: left.name,
    binDir: ensurePostgres(),
    dataDir: left.dataDir,
    port: left.port,
  });
  try {
    await successor.start();
    expect(left.process.running).toBe(false);
    expect(successor.process.pid).not.toBe(undefined);
    const rows = await cluster.sql<{ ok: number }>('SELECT 1 AS ok');
    expect(rows).toEqual([{ ok: 1 }]);
  } finally {
    await successor.stop();
    await left.start(); // so that the file's afterAll stops what it started
  }
}, 60_000);
