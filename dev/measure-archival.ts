/**
 * Measures archival on a scratch cluster (three etcd members, launcher's --max-txn-ops 2048) and
 * a local PostgreSQL: commits N payments through the etcd ledger with group commit, then lets the
 * archiver move them all (hot window 0) and prints payments/s committed and moved, and the
 * archived-id summary's bytes per id in etcd. Also the two tiers' cost: etcd bytes per payment per
 * member (db size grown over the commits), PostgreSQL bytes per payment (the payments table after
 * the move), a history page's p50 from the hot tier (etcd) and from the archive, and the largest
 * member's db size against the backend quota.
 * Run: `npm run measure:archival -- [N] [batchSize] [--json FILE] [--run-id ID]`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { systemClock } from '../coordination/clock/clock';
import { LeaderElection } from '../coordination/cluster/leader-election';
import { LedgerArchiver } from '../coordination/cluster/ledger-archiver';
import { PgArchive } from '../ledger/archive/pg-archive';
import { ArchivedIdCache } from '../ledger/etcd/archived-id-cache';
import { EtcdLedger } from '../ledger/etcd/etcd-ledger';
import { keyLayout, prefixEnd } from '../ledger/etcd/key-layout';
import { percentile } from '../loadtest/latency-stats';
import { ensurePostgres } from './cluster/ensure-postgres';
import { DEFAULT_ETCD_QUOTA_BYTES } from './cluster/etcd-cluster';
import { PostgresCluster } from './cluster/postgres-cluster';
import { startScratchCluster } from './cluster/scratch-cluster';
import { measurementHeader } from './measure-output';

const { values: flags, positionals } = parseArgs({
  options: { json: { type: 'string' }, 'run-id': { type: 'string' } },
  allowPositionals: true,
});
const header = measurementHeader('measure:archival', flags['run-id']);
const total = Number(positionals[0] ?? 20_000);
/** History pages read from each tier, for the p50. */
const HISTORY_READS = 50;
const dir = mkdtempSync(join(tmpdir(), 'measure-archival-'));
const postgres = new PostgresCluster({ binDir: ensurePostgres(), dir: join(dir, 'pg'), noSyncInit: true });
const cluster = await startScratchCluster({ dirPrefix: 'measure-archival-' });
try {
  await postgres.start();
  const urls = await postgres.createDatabase(`m_${randomBytes(4).toString('hex')}`);
  const root = `/measure/${randomUUID()}`;
  const client = cluster.client({ callDeadlineMs: 10_000 });
  const ledger = new EtcdLedger({ client, root, operationDeadlineMs: 30_000 });
  const memberClients = cluster.etcd.members.map((m) => cluster.client({ endpoints: [m.clientUrl] }));
  const dbSizes = () =>
    Promise.all(memberClients.map(async (c) => Number((await c.maintenance.status()).dbSize ?? 0)));
  const sizesBefore = await dbSizes();
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
  const sizesAfter = await dbSizes();
  // One account's history pages, timed: the same reads from each tier.
  const historyP50 = async (read: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < HISTORY_READS; i++) {
      const t = performance.now();
      await read();
      times.push(performance.now() - t);
    }
    return percentile(times, 50);
  };
  const page = { account: 'acct-1', limit: 50 };
  const historyHotP50Ms = await historyP50(() => ledger.history(page));
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
    batchSize: Number(positionals[1] ?? 1000),
  });
  const moveStarted = performance.now();
  let moved = 0;
  for (let pass = 0; pass < 1000 && moved < total; pass++) moved += (await archiver.runOnce())?.moved ?? 0;
  const moveSeconds = (performance.now() - moveStarted) / 1000;
  const prefix = keyLayout(root).archivedIdsPrefix();
  const summary = await client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
  const summaryBytes = summary.kvs.reduce((sum, kv) => sum + kv.key.length + kv.value.length, 0);
  const historyArchivedP50Ms = await historyP50(() => archive.history(page));
  const owner = new pg.Client({ connectionString: urls.owner });
  await owner.connect();
  const pgBytes = Number(
    (await owner.query<{ n: string }>("SELECT pg_total_relation_size('payments') AS n")).rows[0]!.n,
  );
  await owner.end();
  const grown = sizesAfter.map((s, i) => s - sizesBefore[i]!);
  const figures = {
    ...header,
    payments: total,
    commitPerSecond: Math.round(total / commitSeconds),
    moved,
    archivedPerSecond: Math.round(moved / moveSeconds),
    summaryKeys: summary.kvs.length,
    summaryBytesPerId: Number((summaryBytes / moved).toFixed(2)),
    etcdBytesPerPaymentPerMember: Math.round(grown.reduce((a, b) => a + b, 0) / grown.length / total),
    pgBytesPerPayment: Math.round(pgBytes / Math.max(1, moved)),
    historyHotP50Ms: Number(historyHotP50Ms.toFixed(2)),
    historyArchivedP50Ms: Number(historyArchivedP50Ms.toFixed(2)),
    etcdDbMaxBytes: Math.max(...sizesAfter),
    quotaBytes: DEFAULT_ETCD_QUOTA_BYTES,
  };
  if (flags.json) writeFileSync(flags.json, `${JSON.stringify(figures, null, 2)}\n`);
  for (const c of memberClients) c.close();
  console.log(JSON.stringify(figures));
  await election.close();
  await archive.close();
} finally {
  await cluster.stop();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
