/**
 * Middleware that makes every request observable: a request id (the client's `X-Request-Id` if
 * it is sane, else a fresh UUID) returned in the same header and carried by every log line about
 * the request (functions/observability/logger.ts), one access log line when the answer is sent,
 * and the request counters and latency histogram.
 */

import { performance } from 'node:perf_hooks';
import type { Context, MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { type Logger, logRequest } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export interface ObserveRequestsOptions {
  logger: Logger;
  metrics: Metrics;
  /** Longest client request id kept; a longer one is replaced. Default 128. */
  maxRequestIdLength?: number;
}

/**
 * Routes that scrapers, load balancers and open dashboards poll every few seconds: their access
 * lines go to debug, so that at info the log is about payments.
 */
const POLLED_PATH = /^\/(?:health|ready|metrics|cluster|events|openapi\.json|dashboard)(?:\/|$)/;
const isPolled = (path: string) => POLLED_PATH.test(path);

/** Route label for requests no route matched, so unknown paths cannot blow up label cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

export function observeRequests({
  logger,
  metrics,
  maxRequestIdLength = 128,
}: ObserveRequestsOptions): MiddlewareHandler[] {
  const observe: MiddlewareHandler = async (c, next) => {
    // A duration, not a timestamp: the monotonic clock, which clock sync never steps.
    const started = performance.now();
    c.set('log', logger);
    try {
      await next();
    } finally {
      // A thrown error has been turned into a response by app.onError before we get here.
      const status = c.res.status;
      const route = matchedRoute(c);
      const seconds = (performance.now() - started) / 1000;
      const labels = { method: c.req.method, route, status: String(status) };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestSeconds.observe(labels, seconds);
      const line = { method: c.req.method, path: c.req.path, route, status, ms: Math.round(seconds * 1000) };
      // Carries the request id, and the payment id and payer when a handler tagged the request.
      if (status >= 500) logRequest(c, 'warn', line, 'request failed');
      else if (isPolled(c.req.path)) logRequest(c, 'debug', line, 'request');
      else logRequest(c, 'info', line, 'request');
    }
  };
  return [requestId({ limitLength: maxRequestIdLength }), observe];
}

/** The pattern of the route that answered, e.g. `/payments/:id`; only middleware matched means no route did. */
function matchedRoute(c: Context): string {
  const path = routePath(c, -1);
  return path === '/*' || path === '*' || path === '' ? UNMATCHED_ROUTE : path;
}
