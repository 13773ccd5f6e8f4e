/**
 * The bench's HTTP ceiling: a bare Hono app on the hosts' adapter (@hono/node-server) that parses a
 * payment's JSON and answers 201 with JSON, and does nothing else: no key, validation, log line,
 * metric, clock or ledger. dev/bench.ts starts one per host and drives them exactly as it drives
 * the hosts, so "end to end as a share of the ceiling" says how much of what the HTTP stack itself
 * allows on this machine the payment path reaches.
 * Run: `PORT=8090 node --import tsx dev/bench/http-ceiling-server.ts`.
 */
import { serve } from '@hono/node-server';
import { bareApp } from './bare-app';

const app = bareApp();
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
