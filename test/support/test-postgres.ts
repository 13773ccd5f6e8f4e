/**
 * A real PostgreSQL for one test file (dev/cluster/postgres-cluster.ts): initialised in a
 * temporary directory on free loopback ports, removed afterwards unless KEEP_TEST_DIRS is set.
 * A file makes one database per suite with `database()`, migrations applied, so suites share
 * one server start (about 2 s; with a synchronous standby about 5 s).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgres } from '../../dev/cluster/ensure-postgres';
import { type ArchiveUrls, PostgresCluster } from '../../dev/cluster/postgres-cluster';

export interface TestPostgres {
  cluster: PostgresCluster;
  dir: string;
  /** A fresh database with the migrations applied, and its URLs per role. */
  database(): Promise<ArchiveUrls>;
  stop(): Promise<void>;
}

export async function startTestPostgres({
  standby = false,
}: {
  standby?: boolean;
} = {}): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'payments-pg-'));
  const cluster = new PostgresCluster({
    binDir: ensurePostgres(),
    dir: join(dir, 'pg'),
    standby,
    noSyncInit: true,
  });
  const stop = async () => {
    await cluster.stop();
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await cluster.start();
  } catch (error) {
    await stop();
    throw error;
  }
  const database = () => cluster.createDatabase(`t_${randomBytes(6).toString('hex')}`);
  return { cluster, dir, database, stop };
}
