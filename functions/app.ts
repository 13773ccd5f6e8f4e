/**
 * The function host's HTTP app: the middleware every request passes, the one error handler, and
 * the routes of the route table (functions/routes.ts). Built by a factory so tests can run it
 * in-process with `app.request(...)` over any ledger.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { ApiKeyAuthenticator, type ApiKeyAuthenticatorOptions } from './auth/api-key-authenticator';
import { FailedAuthLimiter, type FailedAuthLimiterOptions } from './auth/failed-auth-limiter';
import { KeyRateLimiter, type KeyRateLimiterOptions } from './auth/key-rate-limiter';
import { dashboardHandlers } from './dashboard/routes';
import type { FunctionDeps } from './deps';
import { errorBody, handleError } from './http-errors';
import { clockGuard } from './middleware/clock-guard';
import { etcdReachability } from './middleware/etcd-reachability';
import { hlcHeaders } from './middleware/hlc-headers';
import { observeRequests } from './middleware/observe-requests';
import { closeWhenBodyUnread } from './middleware/request-body';
import {
  DEFAULT_MAX_REQUESTS_IN_PROGRESS,
  limitRequestsInProgress,
  limitRequestsPerKey,
} from './middleware/requests-in-progress';
import { requireApiKey } from './middleware/require-api-key';
import { type Logger, silentLogger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { buildOpenApiDocument } from './openapi';
import { isOpenRoute, mountRoutes } from './routes';

export interface AppOptions extends FunctionDeps {
  /** Largest accepted request body, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Request and payment logs. Default silent (in-process tests); the host passes its LOG_LEVEL logger. */
  logger?: Logger;
  /** Metrics served at /metrics. Default a fresh registry per app. */
  metrics?: Metrics;
  /** API key cache (revocation bound), per-key rate limit, failed authentications per address. Defaults: 1000 ms, 1000 requests/s, 20/s. */
  auth?: ApiKeyAuthenticatorOptions & KeyRateLimiterOptions & FailedAuthLimiterOptions;
  /** Requests in progress past which new ones are shed with 503 (functions/middleware/requests-in-progress.ts). Default 128. */
  maxRequestsInProgress?: number;
  /** One API key's share of them (functions/middleware/requests-in-progress.ts). Default half of maxRequestsInProgress. */
  maxRequestsPerKey?: number;
  /** Time a request body may take to arrive before a 408, ms (functions/middleware/request-body.ts). Default 10000. */
  bodyTimeoutMs?: number;
}

export function createApp({
  maxBodyBytes = 64 * 1024,
  logger = silentLogger,
  metrics = createMetrics(),
  auth = {},
  maxRequestsInProgress,
  maxRequestsPerKey,
  bodyTimeoutMs,
  ...rest
}: AppOptions): OpenAPIHono {
  const deps = { ...rest, metrics };
  const app = new OpenAPIHono();
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
  // Before the key gate: its key lookups read etcd too, and would hold requests on a cut-off host.
  if (deps.cluster) app.use('/payments/*', etcdReachability(deps.cluster));
  app.use(
    '*',
    requireApiKey({
      authenticator: new ApiKeyAuthenticator(deps.apiKeys, auth),
      rateLimiter: new KeyRateLimiter(auth),
      isOpen: isOpenRoute,
      failedAuth: new FailedAuthLimiter(auth),
    }),
  );
  app.use(
    '*',
    limitRequestsPerKey({
      max: maxRequestsPerKey ?? (maxRequestsInProgress ?? DEFAULT_MAX_REQUESTS_IN_PROGRESS) / 2,
      metrics,
    }),
  );
  if (deps.clocks) {
    app.use('*', hlcHeaders(deps.clocks));
    app.use('/payments', clockGuard(deps.clocks));
  }
  const cluster = deps.cluster;
  let openApiJson: string | undefined;
  mountRoutes(
    app,
    {
      deps,
      dashboard: dashboardHandlers({ etcdMembers: cluster && (() => cluster.etcdMembers()) }),
      // Built on first request, once every route is registered, then served as is.
      openApiJson: () => {
        openApiJson ??= JSON.stringify(buildOpenApiDocument(app));
        return openApiJson;
      },
    },
    { maxBodyBytes, bodyTimeoutMs },
  );
  return app;
}
