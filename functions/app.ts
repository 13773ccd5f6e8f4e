/**
 * The function host's HTTP app: mounts each function handler and the one error handler.
 * Built by a factory so tests can run it in-process with `app.request(...)` over any ledger.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { ApiKeyAuthenticator, type ApiKeyAuthenticatorOptions } from './auth/api-key-authenticator';
import { KeyRateLimiter, type KeyRateLimiterOptions } from './auth/key-rate-limiter';
import { dashboardRoutes } from './dashboard/routes';
import type { FunctionDeps } from './deps';
import { createApiKey, listApiKeys, revokeApiKey } from './handlers/admin-keys';
import { clusterStatus, liveHosts } from './handlers/cluster-status';
import { createPayment } from './handlers/create-payment';
import { listEvents } from './handlers/events';
import { getPayment } from './handlers/get-payment';
import { health, ready } from './handlers/health';
import { listPayments } from './handlers/list-payments';
import { adjustTime, getTime } from './handlers/time';
import { errorBody, handleError } from './http-errors';
import { clockGuard } from './middleware/clock-guard';
import { hlcHeaders } from './middleware/hlc-headers';
import { observeRequests } from './middleware/observe-requests';
import { closeWhenBodyUnread, readBody } from './middleware/request-body';
import { limitRequestsInProgress } from './middleware/requests-in-progress';
import { requireApiKey, requireScope } from './middleware/require-api-key';
import { type Logger, silentLogger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { buildOpenApiDocument } from './openapi';

export interface AppOptions extends FunctionDeps {
  /** Largest accepted request body, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Request and payment logs. Default silent (in-process tests); the host passes its LOG_LEVEL logger. */
  logger?: Logger;
  /** Metrics served at /metrics. Default a fresh registry per app. */
  metrics?: Metrics;
  /** API key cache (revocation bound) and per-key rate limit. Defaults: 1000 ms, 1000 requests/s. */
  auth?: ApiKeyAuthenticatorOptions & KeyRateLimiterOptions;
  /** Requests in progress past which new ones are shed with 503 (functions/middleware/requests-in-progress.ts). Default 128. */
  maxRequestsInProgress?: number;
}

export function createApp({
  maxBodyBytes = 64 * 1024,
  logger = silentLogger,
  metrics = createMetrics(),
  auth = {},
  maxRequestsInProgress,
  ...rest
}: AppOptions): Hono {
  const deps = { ...rest, metrics };
  const app = new Hono();
  app.onError(handleError);
  app.use(closeWhenBodyUnread());
  // First, so that a shed request costs as little as possible: no request id, access log line or
  // latency sample (shed_requests_total counts it); an overloaded host would log thousands a second.
  app.use(limitRequestsInProgress({ max: maxRequestsInProgress, metrics }));
  app.use(...observeRequests({ logger, metrics }));
  // Read-only operator endpoints may be read by the dashboard served from another host (its
  // preflight OPTIONS is answered here, before the key gate, as browsers send it without a key).
  app.use('/health', cors());
  app.use('/metrics', cors());
  app.use('/cluster', cors());
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.use(
    '*',
    requireApiKey({
      authenticator: new ApiKeyAuthenticator(deps.apiKeys, auth),
      rateLimiter: new KeyRateLimiter(auth),
    }),
  );
  const admin = requireScope('admin');

  if (deps.clocks) {
    deps.clocks.hlc.onIgnored((reason) => metrics.hlcMessagesIgnored.inc({ reason }));
    // After the key gate: X-HLC is honoured only on requests it verified (issue 15 §1).
    app.use('*', hlcHeaders(deps.clocks));
    app.use('/payments', clockGuard(deps.clocks));
    app.get('/time', getTime({ ...deps.clocks, hostId: deps.hostId }));
    app.post(
      '/time/adjust',
      requireScope('clock', 'admin'),
      readBody({ maxBytes: maxBodyBytes }),
      adjustTime(deps.clocks),
    );
    app.get('/events', admin, listEvents(deps.clocks));
  }
  app.get('/health', health(deps));
  app.get('/ready', ready(deps));
  if (deps.cluster) {
    app.get('/cluster', admin, clusterStatus(deps.cluster));
    app.get('/hosts', liveHosts(deps.cluster));
  }
  app.post('/payments', readBody({ maxBytes: maxBodyBytes }), createPayment(deps));
  app.get('/payments', listPayments(deps));
  app.get('/payments/:id', getPayment(deps));
  app.get('/metrics', admin, async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  app.post('/admin/keys', admin, readBody({ maxBytes: maxBodyBytes }), createApiKey(deps, deps.apiKeys));
  app.get('/admin/keys', admin, listApiKeys(deps.apiKeys));
  app.delete('/admin/keys/:id', admin, revokeApiKey(deps, deps.apiKeys));
  const openApi = JSON.stringify(buildOpenApiDocument());
  app.get('/openapi.json', (c) => c.body(openApi, 200, { 'content-type': 'application/json' }));
  const cluster = deps.cluster;
  app.use('/dashboard/etcd-members', admin);
  app.route('/dashboard', dashboardRoutes({ etcdMembers: cluster && (() => cluster.etcdMembers()) }));
  return app;
}
