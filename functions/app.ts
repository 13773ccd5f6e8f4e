/**
 * The function host's HTTP app: mounts each function handler and the one error handler.
 * Built by a factory so tests can run it in-process with `app.request(...)` over any ledger.
 */
import { Hono } from 'hono';
import { clusterStatus } from './cluster-status';
import { createPayment } from './create-payment';
import type { FunctionDeps } from './deps';
import { errorBody, handleError } from './error-handler';
import { getPayment } from './get-payment';
import { health, ready } from './health';
import { listPayments } from './list-payments';
import { readBody } from './request-body';

export interface AppOptions extends FunctionDeps {
  /** Largest accepted request body, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
}

export function createApp({ maxBodyBytes = 64 * 1024, ...deps }: AppOptions): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  app.get('/health', health(deps));
  app.get('/ready', ready(deps));
  if (deps.cluster) app.get('/cluster', clusterStatus(deps.cluster));
  app.post('/payments', readBody({ maxBytes: maxBodyBytes }), createPayment(deps));
  app.get('/payments', listPayments(deps));
  app.get('/payments/:id', getPayment(deps));
  return app;
}
