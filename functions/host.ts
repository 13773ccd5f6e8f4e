/**
 * A function host: one stateless process serving the payment functions over HTTP.
 * Run: `npm run host` (configuration from the environment, see functions/config.ts).
 */
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { systemClock } from '../coordination/clock';
import { createEtcdClient } from '../coordination/etcd-client';
import { createHostCoordination } from '../coordination/host-coordination';
import { EtcdLedger } from '../ledger/etcd-ledger';
import { createApp } from './app';
import { readHostConfig } from './config';
import { createLogger } from './logger';
import { answerMalformedRequest } from './malformed-request';
import { createMetrics, watchClusterView } from './metrics';

const config = readHostConfig(process.env);
const logger = createLogger({ level: config.logLevel, base: { host: config.hostId }, clock: systemClock });
const client = createEtcdClient({
  endpoints: config.etcdEndpoints,
  callDeadlineMs: config.etcdCallDeadlineMs,
});
const ledger = new EtcdLedger({
  client,
  root: config.ledgerRoot,
  operationDeadlineMs: config.requestDeadlineMs,
  batching: config.batching,
});
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const version = String(packageJson.version);
const coordination = createHostCoordination({
  client,
  clock: systemClock,
  etcdEndpoints: config.etcdEndpoints,
  hostId: config.hostId,
  url: config.advertisedUrl,
  version,
  root: config.ledgerRoot,
  ttlSeconds: config.membershipTtlSeconds,
  maintenanceIntervalMs: config.maintenanceIntervalMs,
  log: (event) => logger.info(event, 'coordination'),
});
const metrics = createMetrics({ processMetrics: true });
watchClusterView(metrics, coordination.view);
const app = createApp({
  ledger,
  clock: systemClock,
  hostId: config.hostId,
  cluster: coordination.status,
  logger,
  metrics,
  etcdEndpoints: config.etcdEndpoints,
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.bind }, (info) => {
  logger.info({ url: `http://${info.address}:${info.port}` }, 'host listening');
  coordination.start();
});

server.on('clientError', answerMalformedRequest);

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'host stopping');
  server.close();
  void coordination
    .close()
    .catch(() => undefined)
    .then(() => ledger.close())
    .finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
