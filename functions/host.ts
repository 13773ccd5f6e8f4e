/**
 * A function host: one stateless process serving the payment functions over HTTP.
 * Run: `npm run host` (configuration from the environment, see functions/config.ts).
 */
import { serve } from '@hono/node-server';
import { systemClock } from '../coordination/clock';
import { createEtcdClient } from '../coordination/etcd-client';
import { EtcdLedger } from '../ledger/etcd-ledger';
import { createApp } from './app';
import { readHostConfig } from './config';
import { createLogger } from './logger';
import { createMetrics } from './metrics';

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
});
const app = createApp({
  ledger,
  clock: systemClock,
  hostId: config.hostId,
  logger,
  metrics: createMetrics({ processMetrics: true }),
  etcdEndpoints: config.etcdEndpoints,
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.bind }, (info) => {
  logger.info({ url: `http://${info.address}:${info.port}` }, 'host listening');
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'host stopping');
  server.close();
  void ledger.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
