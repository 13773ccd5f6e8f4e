/**
 * The host's request path alone, without the rest of `npm run bench`'s system: one app
 * (functions/app.ts) in this process, with an admin API key, info-level logs (written to
 * /dev/null through the host's own buffered destination), metrics and the HLC, over an in-memory
 * ledger or a real etcd member; the event log's records are rendered and then discarded. A child
 * process drives `POST /payments` with autocannon (64 connections, a fresh id per request) and the
 * app's process reports its CPU per request.
 *
 * Why: a full bench run puts 3 etcd members, 2 PostgreSQL servers, chrony, 3 hosts and the load
 * generator on two cores, and its host column moves ±20 % between runs of the same code. Here one
 * process is measured, so a change to the request path shows on its own (docs/performance.md).
 *
 *   npx tsx dev/bench/host-path.ts                                   # in-memory ledger
 *   npx tsx dev/bench/host-path.ts --etcd http://127.0.0.1:2379      # EtcdLedger with group commit
 *   npx tsx dev/bench/host-path.ts --ceiling                         # a bare Hono handler instead
 *   options: --seconds S (default 8, after a 3 s warm-up), --runs N (default 3; the median is printed)
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { createHostClocks } from '../../coordination/clock-sync/host-clocks';
import { createEtcdClient } from '../../coordination/etcd/etcd-client';
import { MemoryEventStore } from '../../coordination/events/event-store';
import { createApp } from '../../functions/app';
import { generateApiKey } from '../../functions/auth/api-key';
import { ALL_ACCOUNTS } from '../../functions/auth/api-key-record';
import { MemoryApiKeyStore } from '../../functions/auth/memory-api-key-store';
import { bufferedLogDestination, createLogger } from '../../functions/observability/logger';
import { createMetrics } from '../../functions/observability/metrics';
import { EtcdLedger } from '../../ledger/etcd/etcd-ledger';
import { MemoryLedger } from '../../ledger/memory-ledger';
import { bareApp } from './bare-app';

const CONNECTIONS = 64;

interface DriveResult {
  requests: number;
  non2xx: number;
}

/** In the child: drives `url` for `seconds` and sends back what autocannon counted. */
async function drive(url: string, key: string, seconds: number): Promise<void> {
  let n = 0;
  const result = await autocannon({
    url: `${url}/payments`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          n += 1;
          const body = {
            id: `hp-${process.pid}-${n}`,
            payer: `acct-${n % 50}`,
            payee: `acct-${(n + 7) % 50}`,
          };
          return {
            ...request,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify({ ...body, amount: 1234, currency: 'EUR' }),
          };
        },
      },
    ],
  });
  process.send?.({ requests: result.requests.total, non2xx: result.non2xx } satisfies DriveResult);
}

function runDriver(url: string, key: string, seconds: number): Promise<DriveResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      new URL(import.meta.url).pathname,
      ['--drive', url, '--key', key, '--seconds', String(seconds)],
      {
        execArgv: process.execArgv.filter((a) => !a.startsWith('--cpu-prof')),
      },
    );
    child.once('message', (m) => resolve(m as DriveResult));
    child.once('exit', (code) => code !== 0 && reject(new Error(`driver exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      drive: { type: 'string' },
      key: { type: 'string' },
      etcd: { type: 'string' },
      ceiling: { type: 'boolean' },
      seconds: { type: 'string', default: '8' },
      runs: { type: 'string', default: '3' },
    },
  });
  const seconds = Number(values.seconds);
  if (values.drive) return drive(values.drive, values.key ?? '', seconds);

  const apiKeys = new MemoryApiKeyStore();
  const admin = generateApiKey();
  await apiKeys.create({
    accounts: [ALL_ACCOUNTS],
    scopes: ['admin'],
    rateLimitPerSecond: 0,
    id: admin.id,
    secretHash: admin.secretHash,
    createdAt: new Date().toISOString(),
  });
  // Rendered by the event log as on a host, then dropped: the store is PostgreSQL's business.
  const discard = Object.assign(new MemoryEventStore(), { maxBatch: 5000, append: async () => {} });
  const clocks = createHostClocks({ hostId: 'h1', eventStore: discard });
  clocks.hostClock.adjust(0, 0, 'reference');
  clocks.start();
  const logger = createLogger({
    level: 'info',
    base: { host: 'h1' },
    clock: clocks.hostClock,
    destination: bufferedLogDestination('/dev/null'),
  });
  const ledger = values.etcd
    ? new EtcdLedger({
        client: createEtcdClient({ endpoints: [values.etcd] }),
        root: `/host-path-${process.pid}`,
      })
    : new MemoryLedger();
  const app = createApp({
    ledger,
    apiKeys,
    clock: clocks.hostClock,
    hostId: 'h1',
    logger,
    metrics: createMetrics(),
    clocks: clocks.deps,
  });
  const bare = bareApp();
  const server = serve({ fetch: values.ceiling ? bare.fetch : app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const what = values.ceiling
    ? 'bare Hono handler'
    : `host app over ${values.etcd ? `etcd ${values.etcd}` : 'the in-memory ledger'}`;
  console.log(`${what}: warm-up 3 s, then ${values.runs} runs of ${seconds} s, ${CONNECTIONS} connections`);
  await runDriver(url, admin.key, 3);
  const perRequest: number[] = [];
  for (let run = 1; run <= Number(values.runs); run++) {
    const before = process.cpuUsage();
    const result = await runDriver(url, admin.key, seconds);
    const cpu = process.cpuUsage(before);
    const us = (cpu.user + cpu.system) / result.requests;
    perRequest.push(us);
    console.log(
      `run ${run}: ${Math.round(result.requests / seconds)}/s, ${result.non2xx} not 2xx, ${us.toFixed(1)} µs of this process's CPU per request`,
    );
  }
  perRequest.sort((a, b) => a - b);
  console.log(`median: ${perRequest[Math.floor(perRequest.length / 2)]?.toFixed(1)} µs per request`);
  clocks.stop?.();
  server.close();
  process.exit(0);
}

await main();
