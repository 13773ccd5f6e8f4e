/**
 * A function host: one stateless process serving the payment functions over HTTP.
 * Run: `npm run host` (configuration from the environment, see functions/config.ts).
 */
import { serve } from '@hono/node-server';
import { createEtcdClient } from '../coordination/etcd-client';
import { EtcdEventStore } from '../coordination/etcd-event-store';
import { createHostClocks } from '../coordination/host-clocks';
import { StaticClusterView } from '../coordination/static-cluster-view';
import { EtcdLedger } from '../ledger/etcd-ledger';
import { createApp } from './app';
import { readHostConfig } from './config';

const config = readHostConfig(process.env);
const client = createEtcdClient({ endpoints: config.etcdEndpoints, callDeadlineMs: config.etcdCallDeadlineMs });
const c = config.clocks;
// The cluster view: static (CLUSTER_HOSTS) until the etcd membership view is wired in here.
const view =
  c.syncEnabled && c.clusterHosts
    ? new StaticClusterView(config.hostId, c.clusterHosts, c.clusterLeader)
    : undefined;
const clocks = createHostClocks({
  hostId: config.hostId,
  view,
  eventStore: new EtcdEventStore({ client, root: config.ledgerRoot }),
  clock: { offsetMs: c.offsetMs, driftPpm: c.driftPpm, maxSlewRate: c.maxSlewRate },
  sync: {
    roundIntervalMs: c.syncIntervalMs,
    resyncErrorMs: c.resyncErrorMs,
    outlierBoundMs: c.outlierBoundMs,
    maxOffsetMs: c.maxOffsetMs,
  },
  events: { flushIntervalMs: c.eventsFlushMs, retentionMs: c.eventsRetentionMs },
  maxEventLatenessMs: c.eventsMaxLatenessMs,
});
const etcdLedger = new EtcdLedger({
  client,
  root: config.ledgerRoot,
  operationDeadlineMs: config.requestDeadlineMs,
});
const ledger = clocks.wrapLedger(etcdLedger);
const app = createApp({ ledger, clock: clocks.hostClock, hostId: config.hostId, clocks: clocks.deps });

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.bind }, (info) => {
  console.log(
    JSON.stringify({ level: 'info', msg: 'host listening', host: config.hostId, url: `http://${info.address}:${info.port}` }),
  );
  clocks.start();
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ level: 'info', msg: 'host stopping', host: config.hostId, signal }));
  server.close();
  void clocks
    .stop()
    .then(() => ledger.close())
    .finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
