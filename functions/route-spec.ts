/**
 * The shape of one entry of the route table (functions/routes.ts), apart from the table itself so
 * that what reads entries (functions/openapi.ts) need not import the table.
 */
import type { Handler } from 'hono';
import type { z } from 'zod';
import type { DashboardHandlers } from './dashboard/routes';
import type { FunctionDeps } from './deps';
import type { Metrics } from './observability/metrics';
import type { RequestSchemas } from './validation';

/**
 * Who may call a route: `open` needs no key; `key` any valid key (the handler checks the accounts
 * involved); `admin` the admin scope; `clock` the clock or admin scope. Required on every route,
 * so a route without one does not compile, and only `open` lets a request past the gate keyless.
 */
export type RouteAccess = 'open' | 'key' | 'admin' | 'clock';

/** What a route's handler is built from, once per app. */
export interface RouteHost {
  deps: FunctionDeps & { metrics: Metrics };
  dashboard: DashboardHandlers;
  /** The OpenAPI document as served, built once all routes are registered. */
  openApiJson: () => string;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** Hono pattern, e.g. `/payments/:id`. */
  path: string;
  access: RouteAccess;
  summary: string;
  request?: RequestSchemas;
  /** Status → description and optional body schema; error statuses get the error shape. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  /** The handler, or undefined where this host lacks what the route needs (it is still documented). */
  handler: (host: RouteHost) => Handler | undefined;
}
