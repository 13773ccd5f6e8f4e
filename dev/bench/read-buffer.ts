/**
 * What a burst of writes leaves behind in etcd 3.4, at several backend batch limits side by side
 * (why it matters: DEFAULT_BACKEND_BATCH_LIMIT in dev/cluster/etcd-cluster.ts). For each limit,
 * a fresh 3-member cluster (plain http) runs:
 *  1. a closed loop of the naive commit's shape (a create-if-absent compare, three puts), once to
 *     warm up and once timed;
 *  2. the burst: `--burst` puts in transactions of `--ops`, back to back, as an archival step sends
 *     its deletes (in transactions of up to --max-txn-ops: 128 on a stock etcd, 2,048 here); with
 *     --delete, then one DeleteRange of them all, as the bench's storage step did before it
 *     deleted in pieces;
 *  3. the closed loop again; with --after compact or --after defragment, that, and the loop again.
 * It prints, per loop, transactions/s and etcd's CPU per transaction (all three members' CPU
 * added, µs), and the ratio of the last loop to the first. Clusters run one after the other, so
 * compare the ratios, not the absolute figures of two limits. About 1 minute per limit.
 *
 *   npm run bench:read-buffer
 *   npm run bench:read-buffer -- --limits 10000 --burst 25000 --ops 1000 --delete --after compact
 *   options: --limits 10000,1000 (etcd's default, then ours), --burst 30000, --ops 120,
 *            --seconds 5 per loop, --concurrency 64
 */
import { parseArgs } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { type ScratchCluster, startScratchCluster } from '../cluster/scratch-cluster';
import { cpuMs } from './process-cpu';
import { StorageProbe } from './storage';

const { values: flags } = parseArgs({
  options: {
    limits: { type: 'string', default: '10000,1000' },
    burst: { type: 'string', default: '30000' },
    ops: { type: 'string', default: '120' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    delete: { type: 'boolean', default: false },
    after: { type: 'string' },
  },
});
if (flags.after !== undefined && flags.after !== 'compact' && flags.after !== 'defragment') {
  console.error(`error: --after takes compact or defragment, got ${flags.after}`);
  process.exit(2);
}
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

const us = (f: LoopFigures) => `${Math.round(f.perSecond)}/s, ${Math.round(f.etcdUsPerTxn)} µs/txn`;
const rows: Record<string, string | number>[] = [];
for (const limit of limits) {
  console.log(`backend batch limit ${limit}: fresh 3-member cluster ...`);
  const cluster = await startScratchCluster({ secure: false, etcdBackendBatchLimit: limit });
  try {
    const client = cluster.client({ callDeadlineMs: 60_000 });
    await commitLoop(cluster, client); // warm-up: connections, Go's heap
    const loops = [await commitLoop(cluster, client)];
    console.log(`  before: ${us(loops[0]!)}`);
    const started = Date.now();
    await writeBurst(client);
    if (flags.delete) await client.delete().prefix('/rb/burst/');
    const what = `${burst} puts in ${opsPerTxn}-op transactions${flags.delete ? ', then one DeleteRange of them' : ''}`;
    console.log(`  burst: ${what}, ${Date.now() - started} ms`);
    loops.push(await commitLoop(cluster, client));
    console.log(`  after the burst: ${us(loops[1]!)}`);
    if (flags.after) {
      const probe = new StorageProbe(cluster.etcd);
      try {
        await (flags.after === 'compact' ? probe.compact() : probe.defragment());
      } finally {
        probe.close();
      }
      loops.push(await commitLoop(cluster, client));
      console.log(`  after ${flags.after}: ${us(loops[2]!)}`);
    }
    const [first, burstLoop, last] = [loops[0]!, loops[1]!, loops.at(-1)!];
    rows.push({
      'batch limit': limit,
      'txn/s before': Math.round(first.perSecond),
      'txn/s after the burst': Math.round(burstLoop.perSecond),
      ...(flags.after ? { [`txn/s after ${flags.after}`]: Math.round(last.perSecond) } : {}),
      'etcd µs/txn before': Math.round(first.etcdUsPerTxn),
      'etcd µs/txn after the burst': Math.round(burstLoop.etcdUsPerTxn),
      ...(flags.after ? { [`etcd µs/txn after ${flags.after}`]: Math.round(last.etcdUsPerTxn) } : {}),
      'last / before': (last.etcdUsPerTxn / first.etcdUsPerTxn).toFixed(2),
    });
  } finally {
    await cluster.stop();
  }
}
console.table(rows);
