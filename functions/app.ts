/**
 * The function host's HTTP app: mounts each function handler and the one error handler.
 * Built by a factory so tests can run it in-process with `app.request(...)` over any ledger.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../ledger/errors';
import { createPayment } from './create-payment';
import type { FunctionDeps } from './deps';
import { errorBody, handleError } from './error-handler';
import { listEvents } from './events';
import { getPayment } from './get-payment';
import { health, ready } from './health';
import { listPayments } from './list-payments';
import { adjustTime, clockGuard, getTime, hlcHeaders } from './time';

export interface AppOptions extends FunctionDeps {
  /** Largest accepted request body, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
}

export function createApp({ maxBodyBytes = 64 * 1024, ...deps }: AppOptions): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  if (deps.clocks) {
    app.use('*', hlcHeaders(deps.clocks));
    app.use('/payments', clockGuard(deps.clocks));
    app.get('/time', getTime({ ...deps.clocks, hostId: deps.hostId }));
    app.post('/time/adjust', adjustTime(deps.clocks));
    app.get('/events', listEvents(deps.clocks));
  }
  app.get('/health', health(deps));
  app.get('/ready', ready(deps));
  app.post(
    '/payments',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new PayloadTooLargeError(maxBodyBytes);
      },
    }),
    createPayment(deps),
  );
  app.get('/payments', listPayments(deps));
  app.get('/payments/:id', getPayment(deps));
  return app;
}
