/**
 * The bench's bare handler: a Hono app that parses a payment's JSON and answers 201 with JSON, and
 * does nothing else (no key, validation, log line, metric, clock or ledger). Served by
 * http-ceiling-server.ts for the bench's HTTP ceiling row, and in-process by host-path.ts.
 */
import { Hono } from 'hono';

export function bareApp(): Hono {
  const app = new Hono();
  let sequence = 0;
  app.post('/payments', async (c) => {
    const payment = await c.req.json<Record<string, unknown>>();
    sequence += 1;
    return c.json({ ...payment, sequence }, 201);
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));
  return app;
}
