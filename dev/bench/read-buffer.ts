/**
 * What a burst of writes leaves behind in etcd 3.4, at two backend batch limits side by side.
 *
 * etcd 3.4 copies its read buffer for every read and every transaction's compare, and copies the
 * buffer's whole capacity, which only grows, to the most writes ever pending between two bbolt
 * commits (DEFAULT_BACKEND_BATCH_LIMIT in dev/cluster/etcd-cluster.ts says why). So one burst,
 * such as an archival step that deletes 30 000 keys in 120-op transactions, can make every later
 * transaction dearer for good. For each limit, a fresh 3-member cluster (plain http) runs:
 *  1. a closed loop of the naive commit's shape (a create-if-absent compare, three puts), timed;
 *  2. the burst: `--burst` writes in transactions of `--ops` puts, back to back;
 *  3. the closed loop again.
 * It prints etcd's CPU per transaction before and after, and the ratio. Clusters run one after
 * the other, so compare the ratios, not the absolute figures of two limits.
 *
 *   npm run bench:read-buffer
 *   options: --limits 10000,1000 (etcd's default, then ours), --burst 30000, --ops 120,
 *            --seconds 5 per loop, --concurrency 64
 */
import { parseArgs } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { type ScratchCluster, startScratchCluster } from '../cluster/scratch-cluster';
import { cpuMs } from './process-cpu';

const { values: flags } = parseArgs({
  options: {
    limits: { type: 'string', default: '10000,1000' },
    burst: { type: 'string', default: '30000' },
    ops: { type: 'string', default: '120' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
  },
});
const limits = flags.limits.split(',').map(Number);
const [burst, opsPerTxn, seconds, concurrency] = [
  flags.burst,
  flags.ops,
  flags.seconds,
  flags.concurrency,
].map(Number) as [number, number, number, number];
if ([...limits, burst, opsPerTxn, seconds, concurrency].some((n) => !Number.isInteger(n) || n <= 0)) {
  console.error('error: --limits, --burst, --ops, --seconds and --concurrency take positive integers');
  process.exit(2);
}

interface LoopFigures {
  perSecond: number;
  /** CPU of all members per transaction, µs. */
  etcdUsPerTxn: number;
}

const VALUE = Buffer.alloc(300, 'v');
let nextId = 0;

/** The naive commit's shape: create-if-absent on the record, the record and two index entries. */
async function commitLoop(cluster: ScratchCluster, client: Etcd3): Promise<LoopFigures> {
  const cpu = () => cluster.etcd.members.reduce((sum, m) => sum + cpuMs(m.process.pid), 0);
  const cpu0 = cpu();
  const end = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const n = nextId++;
        const record = Buffer.from(`/rb/payments/${n}`);
        await client.kv.txn({
          compare: [{ key: record, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [
            record,
            Buffer.from(`/rb/accounts/a${n % 1000}/${n}`),
            Buffer.from(`/rb/accounts/b${n % 997}/${n}`),
          ].map((key) => ({ request_put: { key, value: VALUE } })),
        });
        done++;
      }
    }),
  );
  return { perSecond: done / seconds, etcdUsPerTxn: ((cpu() - cpu0) * 1000) / Math.max(1, done) };
}

/** `burst` puts in transactions of `opsPerTxn`, back to back, as an archival step sends them. */
async function writeBurst(client: Etcd3): Promise<void> {
  for (let i = 0; i < burst; i += opsPerTxn) {
    const count = Math.min(opsPerTxn, burst - i);
    await client.kv.txn({
      success: Array.from({ length: count }, (_, j) => ({
        request_put: { key: Buffer.from(`/rb/burst/${i + j}`), value: Buffer.from('x') },
      })),
    });
  }
}

const rows: Record<string, string | number>[] = [];
for (const limit of limits) {
  console.log(`backend batch limit ${limit}: fresh 3-member cluster ...`);
  const cluster = await startScratchCluster({ secure: false, etcdBackendBatchLimit: limit });
  try {
    const client = cluster.client({ callDeadlineMs: 30_000 });
    await commitLoop(cluster, client); // warm-up: connections, Go's heap
    const before = await commitLoop(cluster, client);
    console.log(`  before: ${Math.round(before.perSecond)}/s, ${Math.round(before.etcdUsPerTxn)} µs/txn`);
    const started = Date.now();
    await writeBurst(client);
    console.log(`  burst: ${burst} writes in ${opsPerTxn}-op transactions, ${Date.now() - started} ms`);
    const after = await commitLoop(cluster, client);
    console.log(`  after: ${Math.round(after.perSecond)}/s, ${Math.round(after.etcdUsPerTxn)} µs/txn`);
    rows.push({
      'batch limit': limit,
      'txn/s before': Math.round(before.perSecond),
      'txn/s after': Math.round(after.perSecond),
      'etcd µs/txn before': Math.round(before.etcdUsPerTxn),
      'etcd µs/txn after': Math.round(after.etcdUsPerTxn),
      'after / before': (after.etcdUsPerTxn / before.etcdUsPerTxn).toFixed(2),
    });
  } finally {
    await cluster.stop();
  }
}
console.table(rows);
