/**
 * Measures archival on a scratch cluster (three etcd members, launcher's --max-txn-ops 2048) and
 * a local PostgreSQL: commits N payments through the etcd ledger with group commit, then lets the
 * archiver move them all (hot window 0) and prints payments/s committed and moved, and the
 * archived-id summary's bytes per id in etcd. Run: `npm run measure:archival -- [N] [batchSize]`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../coordination/clock/clock';
import { LeaderElection } from '../coordination/cluster/leader-election';
import { LedgerArchiver } from '../coordination/cluster/ledger-archiver';
import { PgArchive } from '../ledger/archive/pg-archive';
import { ArchivedIdCache } from '../ledger/etcd/archived-id-cache';
import { EtcdLedger } from '../ledger/etcd/etcd-ledger';
import { keyLayout, prefixEnd } from '../ledger/etcd/key-layout';
import { ensurePostgres } from './cluster/ensure-postgres';
import { PostgresCluster } from './cluster/postgres-cluster';
import { startScratchCluster } from './cluster/scratch-cluster';

const total = Number(process.argv[2] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'measure-archival-'));
const postgres = new PostgresCluster({ binDir: ensurePostgres(), dir: join(dir, 'pg'), noSyncInit: true });
const cluster = await startScratchCluster({ dirPrefix: 'measure-archival-' });
try {
  await postgres.start();
  const urls = await postgres.createDatabase(`m_${randomBytes(4).toString('hex')}`);
  const root = `/measure/${randomUUID()}`;
  const client = cluster.client({ callDeadlineMs: 10_000 });
  const ledger = new EtcdLedger({ client, root, operationDeadlineMs: 30_000 });
  const started = performance.now();
  for (let i = 0; i < total; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, total - i) }, (_, k) =>
        ledger.commit(
          {
            id: `m-${i + k}-${randomUUID()}`,
            payer: `acct-${(i + k) % 97}`,
            payee: 'shop',
            amount: 100,
            currency: 'EUR',
          },
          { host: 'h1', committedAt: new Date().toISOString() },
        ),
      ),
    );
  }
  const commitSeconds = (performance.now() - started) / 1000;
  const election = new LeaderElection({
    client,
    clock: systemClock,
    root,
    self: { id: 'm', url: 'http://m' },
  });
  election.start();
  while (!election.isLeader()) await new Promise((r) => setTimeout(r, 50));
  const archive = new PgArchive({ url: urls.host });
  const archiver = new LedgerArchiver({
    client,
    election,
    archive,
    archivedIds: new ArchivedIdCache(client, keyLayout(root)),
    clock: systemClock,
    hotWindowMs: 0,
    root,
    maxTxnOps: 2048,
    batchSize: Number(process.argv[3] ?? 1000),
  });
  const moveStarted = performance.now();
  let moved = 0;
  for (let pass = 0; pass < 1000 && moved < total; pass++) moved += (await archiver.runOnce())?.moved ?? 0;
  const moveSeconds = (performance.now() - moveStarted) / 1000;
  const prefix = keyLayout(root).archivedIdsPrefix();
  const summary = await client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
  const summaryBytes = summary.kvs.reduce((sum, kv) => sum + kv.key.length + kv.value.length, 0);
  console.log(
    JSON.stringify({
      payments: total,
      commitPerSecond: Math.round(total / commitSeconds),
      moved,
      archivedPerSecond: Math.round(moved / moveSeconds),
      summaryKeys: summary.kvs.length,
      summaryBytesPerId: Number((summaryBytes / moved).toFixed(2)),
    }),
  );
  await election.close();
  await archive.close();
} finally {
  await cluster.stop();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
