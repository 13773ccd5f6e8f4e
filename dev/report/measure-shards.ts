/**
 * Sharding the ledger by payment-id hash, measured on this box: ledger commits (group commit on,
 * as the hosts run it) from one process against one single-member etcd cluster, then against two
 * independent single-member clusters with each payment routed by shardOf(id, 2). Also the
 * balance of hash sharding over 100 000 random ids for 2, 4, 8 and 16 shards (a pure simulation).
 * Both clients run the same total concurrency; the two layouts alternate `--repeat` times (one,
 * two, one, two, ...) so that a change in the machine's load hits both alike.
 *
 * Usage: tsx dev/report/measure-shards.ts --out FILE.json [--seconds N (default 8)] [--repeat N (default 3)] [--run-id ID]
 * Single-member clusters keep six etcd processes off a 2-core machine; what is measured is
 * whether two Raft groups add up when nothing is shared but the CPU.
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import getPort from 'get-port';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { paymentBody } from '../../loadtest/scenarios';
import { runClosedLoop } from '../bench/closed-loop';
import { ensurePki } from '../cluster/certificates';
import { ensureEtcd } from '../cluster/ensure-etcd';
import { EtcdCluster } from '../cluster/etcd-cluster';
import { measurementHeader } from '../measure-output';
import { shardBalance, shardOf } from './shard-balance';
import { stat } from './stat';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    seconds: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    'run-id': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help || !values.out) {
  console.log(
    'Usage: tsx dev/report/measure-shards.ts --out FILE.json [--seconds N (default 8)] [--repeat N (default 3)] [--run-id ID]',
  );
  process.exit(values.help ? 0 : 2);
}
const seconds = Number(values.seconds);
const repeat = Number(values.repeat);
const header = {
  ...measurementHeader('report', values['run-id']),
  command: `tsx dev/report/measure-shards.ts ${process.argv.slice(2).join(' ')}`,
};
const CONCURRENCY = 128;
const log = (line: string) =>
  process.stderr.write(`[shards ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const dir = mkdtempSync(join(tmpdir(), 'payments-shards-'));
const binary = ensureEtcd();
const clusters: EtcdCluster[] = [];
// Secured like every cluster the project runs, so the figures include TLS.
const pki = await ensurePki({ dir: join(dir, 'pki'), members: ['s0', 's1'] });
for (let i = 0; i < 2; i++) {
  const [clientPort, peerPort, metricsPort] = [await getPort(), await getPort(), await getPort()];
  clusters.push(
    new EtcdCluster({
      binary,
      dir: join(dir, `c${i}`),
      members: [{ name: `s${i}`, clientPort, peerPort, metricsPort }],
      pki,
      ledgerRoot: '/shards',
    }),
  );
}
const clients = clusters.map((c) => createEtcdClient({ endpoints: c.clientUrls(), tls: c.credentials() }));
const ledgers = clients.map((client) => new EtcdLedger({ client, root: '/shards' }));

async function measure(shards: number, tag: string, concurrency = CONCURRENCY) {
  log(`${shards} cluster(s): ${concurrency} concurrent commits for ${seconds} s ...`);
  const figures = await runClosedLoop(
    concurrency,
    seconds,
    (n) => {
      const id = `${tag}-${n}-${randomUUID().slice(0, 8)}`;
      const ledger = ledgers[shardOf(id, shards)]!;
      return ledger.commit(JSON.parse(paymentBody(id, n, 1000)), {
        host: 'shards',
        committedAt: new Date().toISOString(),
      });
    },
    (done) => log(`  ${done} commits`),
  );
  log(`  ${Math.round(figures.throughput)}/s, p99 ${figures.p99.toFixed(1)} ms, ${figures.errors} errors`);
  return { clusters: shards, concurrency, ...figures };
}

try {
  await Promise.all(clusters.map((c) => c.start(120_000)));
  await measure(1, 'warm'); // JIT and connections; not reported
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 0; i < repeat; i++) {
    one.push((await measure(1, `one-${i}`)).throughput);
    two.push((await measure(2, `two-${i}`)).throughput);
  }
  const ids = Array.from({ length: 100_000 }, () => randomUUID());
  const balance = [2, 4, 8, 16].map((n) => shardBalance(ids, n));
  const result = { ...header, seconds, concurrency: CONCURRENCY, one: stat(one), two: stat(two), balance };
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${values.out}`);
} finally {
  await Promise.all(ledgers.map((l) => l.close()));
  await Promise.all(clusters.map((c) => c.stop()));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
