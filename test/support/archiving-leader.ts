/**
 * An archiving leader in its own process, so a test can kill it (SIGKILL) in the middle of an
 * archival pass. It campaigns, and once it leads runs one pass (coordination/cluster/ledger-archiver.ts)
 * over a PostgreSQL archive with a hot window of 0; at the STOP_COUNT-th STOP_AT step it prints
 * `{"event":"stopped","step":...}` and hangs there, waiting for the kill.
 * Env: ETCD_ENDPOINTS (comma-separated), ETCD_CA_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE on a secured
 * cluster, ROOT, ARCHIVE_URL, STOP_AT (after-insert | after-mark | after-removal), STOP_COUNT (default 1).
 */
import { systemClock } from '../../coordination/clock/clock';
import { LeaderElection } from '../../coordination/cluster/leader-election';
import type { ArchivalStep } from '../../coordination/cluster/ledger-archiver';
import { LedgerArchiver } from '../../coordination/cluster/ledger-archiver';
import { PgArchive } from '../../ledger/archive/pg-archive';
import { ArchivedIdCache } from '../../ledger/etcd/archived-id-cache';
import { keyLayout } from '../../ledger/etcd/key-layout';
import { etcdClientFromEnv } from './child-etcd';

const env = process.env;
const client = etcdClientFromEnv(env);
const root = env.ROOT ?? '/test/archiving-leader';
const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
const election = new LeaderElection({
  client,
  clock: systemClock,
  root,
  self: { id: 'doomed', url: 'http://x' },
});
election.start();
const stopAt = env.STOP_AT as ArchivalStep;
const stopCount = Number(env.STOP_COUNT ?? 1);
let seen = 0;
const archiver = new LedgerArchiver({
  client,
  election,
  archive: new PgArchive({ url: env.ARCHIVE_URL ?? '' }),
  archivedIds: new ArchivedIdCache(client, keyLayout(root)),
  clock: systemClock,
  hotWindowMs: 0,
  root,
  maxTxnOps: 16,
  faults: async (step) => {
    if (step !== stopAt || ++seen !== stopCount) return;
    print({ event: 'stopped', step });
    await new Promise(() => {}); // until killed
  },
});
for (let i = 0; i < 200 && !election.isLeader(); i++) await new Promise((r) => setTimeout(r, 50));
print({ event: 'elected', leader: election.isLeader() });
await archiver.runOnce();
print({ event: 'done' });
