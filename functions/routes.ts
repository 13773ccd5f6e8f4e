/**
 * The route table: every HTTP route of a function host, declared once with who may call it, the
 * schemas of its request and answers, and its handler. From it come the Hono routes (mountRoutes),
 * the API key gate's open routes (isOpenRoute, for functions/middleware/require-api-key.ts) and
 * the OpenAPI document (functions/openapi.ts). test/unit/route-table.test.ts checks that the three agree.
 *
 * Bodies are read by readBody (functions/middleware/request-body.ts: size limit, the Node fast
 * path) and validated against the table by validateRequest (functions/validation.ts), not by
 * @hono/zod-openapi's own validators, which read the Web request and answer in their own words.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { paymentRequestSchema } from '../ledger/payment';
import { type ApiKeyScope, apiKeyGrantSchema, apiKeyRecordSchema } from './auth/api-key-record';
import { createApiKey, keyIdParam, listApiKeys, revokeApiKey } from './handlers/admin-keys';
import { clusterStatus, liveHosts } from './handlers/cluster-status';
import { createPayment } from './handlers/create-payment';
import { eventsQuerySchema, listEvents } from './handlers/events';
import { getPayment } from './handlers/get-payment';
import { health, ready } from './handlers/health';
import { listPayments } from './handlers/list-payments';
import { adjustmentSchema, adjustTime, getTime } from './handlers/time';
import { readBody } from './middleware/request-body';
import { requireScope } from './middleware/require-api-key';
import { openApiRoute, storedPaymentSchema } from './openapi';
import { historyQuerySchema, paymentIdParam, paymentLookupQuerySchema } from './query-schemas';
import type { RouteAccess, RouteHost, RouteSpec } from './route-spec';
import { validateRequest } from './validation';

/** The scopes a key needs on a route, beyond being valid. */
const SCOPES: Record<RouteAccess, ApiKeyScope[]> = {
  open: [],
  key: [],
  admin: ['admin'],
  clock: ['clock', 'admin'],
};

const hostStatusSchema = z.object({ status: z.string(), host: z.string(), reason: z.string().optional() });
const anyObject = z.looseObject({});
const keyViewSchema = apiKeyRecordSchema.omit({ secretHash: true });
const text = (description: string, contentType: string) => ({ description, contentType });
const paymentId = { what: 'payment id', schemas: { id: paymentIdParam } };

export const ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/health',
    access: 'open',
    summary: 'Liveness: 200 while the process is up',
    responses: { 200: { description: 'up', schema: hostStatusSchema } },
    handler: ({ deps }) => health(deps),
  },
  {
    method: 'get',
    path: '/ready',
    access: 'open',
    summary: 'Readiness: 200 only while the host reaches an etcd quorum',
    responses: {
      200: {
        description: 'ready; `status: "degraded"` with a `reason` while payments are refused for storage',
        schema: hostStatusSchema,
      },
      503: { description: 'no quorum' },
    },
    handler: ({ deps }) => ready(deps),
  },
  {
    method: 'post',
    path: '/payments',
    access: 'key',
    summary:
      'Make a payment, exactly once per payer and payment id (`id` or the Idempotency-Key header); replays and conflicts are decided within the payer',
    request: { body: { what: 'payment', schema: paymentRequestSchema } },
    responses: {
      201: { description: 'committed', schema: storedPaymentSchema },
      200: {
        description: 'replay of the same payment (Idempotent-Replayed: true)',
        schema: storedPaymentSchema,
      },
      400: { description: 'invalid request' },
      409: { description: 'this payer already used the id with different content (idempotency_conflict)' },
      413: { description: 'body too large' },
      415: { description: 'not JSON' },
      503: {
        description:
          'no etcd quorum, host overloaded (code overloaded), or etcd storage past its high-water mark (code storage_full); retry with the same id after Retry-After',
      },
    },
    handler: ({ deps }) => createPayment(deps),
  },
  {
    method: 'get',
    path: '/payments',
    access: 'key',
    summary: "An account's payments in commit order, a page at a time",
    request: { query: { what: 'history query', schema: historyQuerySchema } },
    responses: {
      200: {
        description: 'one page',
        schema: z.object({ payments: z.array(storedPaymentSchema), nextCursor: z.string().nullable() }),
      },
      400: { description: 'invalid query' },
      422: {
        description:
          'result_too_large: a stored payment is too large to read (only payments stored before the 16 KiB cap); not retryable',
      },
      503: { description: 'no etcd quorum, or host overloaded (code overloaded)' },
    },
    handler: ({ deps }) => listPayments(deps),
  },
  {
    method: 'get',
    path: '/payments/:id',
    access: 'key',
    summary: 'One payment, by id and payer (`?payer=`); without a payer, the only payment with that id',
    request: { params: paymentId, query: { what: 'payment query', schema: paymentLookupQuerySchema } },
    responses: {
      200: { description: 'the payment', schema: storedPaymentSchema },
      400: { description: 'invalid id or payer' },
      404: { description: 'no such payment (for that payer, when one is given)' },
      409: {
        description:
          'without `?payer=`, more than one payer used the id (ambiguous_payment_id; details list the payers)',
      },
      422: {
        description:
          'result_too_large: a stored payment is too large to read (only payments stored before the 16 KiB cap); not retryable',
      },
      503: { description: 'no etcd quorum, or host overloaded (code overloaded)' },
    },
    handler: ({ deps }) => getPayment(deps),
  },
  {
    method: 'get',
    path: '/cluster',
    access: 'admin',
    summary:
      'Live hosts, the host leader and its fencing token, the health of each etcd member, and etcd storage (sizes, quota, alarms)',
    responses: { 200: { description: 'the cluster as this host sees it', schema: anyObject } },
    handler: ({ deps }) => deps.cluster && clusterStatus(deps.cluster),
  },
  {
    method: 'get',
    path: '/hosts',
    access: 'key',
    summary: "The live hosts' ids and URLs, for client-side discovery (any API key)",
    responses: {
      200: {
        description: 'live hosts',
        schema: z.object({ hosts: z.array(z.object({ id: z.string(), url: z.string() })) }),
      },
    },
    handler: ({ deps }) => deps.cluster && liveHosts(deps.cluster),
  },
  {
    method: 'get',
    path: '/time',
    access: 'open',
    summary: "This host's clock: raw, corrected, cluster-time estimate and error bounds (Cristian, Berkeley)",
    responses: { 200: { description: 'a clock reading', schema: anyObject } },
    handler: ({ deps }) => deps.clocks && getTime({ ...deps.clocks, hostId: deps.hostId }),
  },
  {
    method: 'post',
    path: '/time/adjust',
    access: 'clock',
    summary: "The time master's Berkeley adjustment for this host; accepted only from the leader it knows",
    request: { body: { what: 'clock adjustment', schema: adjustmentSchema } },
    responses: {
      200: { description: 'applied', schema: anyObject },
      400: { description: 'invalid adjustment' },
      409: { description: 'not from the current time master (stale_master)' },
    },
    handler: ({ deps }) => deps.clocks && adjustTime(deps.clocks),
  },
  {
    method: 'get',
    path: '/events',
    access: 'admin',
    summary: 'The merged cluster event log in HLC order, late events reordered behind a watermark',
    request: { query: { what: 'events query', schema: eventsQuerySchema } },
    responses: {
      200: { description: 'one page of events', schema: anyObject },
      400: { description: 'invalid query' },
    },
    handler: ({ deps }) => deps.clocks && listEvents(deps.clocks),
  },
  {
    method: 'get',
    path: '/metrics',
    access: 'admin',
    summary: 'Prometheus metrics of this host',
    responses: { 200: text('Prometheus text exposition format', 'text/plain') },
    handler:
      ({ deps: { metrics } }) =>
      async (c) =>
        c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  },
  {
    method: 'get',
    path: '/openapi.json',
    access: 'open',
    summary: 'This document',
    responses: { 200: text('OpenAPI 3.1 document', 'application/json') },
    handler:
      ({ openApiJson }) =>
      (c) =>
        c.body(openApiJson(), 200, { 'content-type': 'application/json' }),
  },
  {
    method: 'get',
    path: '/dashboard',
    access: 'open',
    summary: 'The operator dashboard (HTML)',
    responses: { 200: text('the page', 'text/html') },
    handler: ({ dashboard }) => dashboard.page,
  },
  {
    method: 'get',
    path: '/dashboard/assets/:file',
    access: 'open',
    summary: "The dashboard's scripts and styles, served from the installed packages",
    request: { params: { what: 'asset', schemas: { file: z.string() } } },
    responses: {
      200: text('a script or stylesheet', 'text/javascript'),
      404: { description: 'unknown file' },
    },
    handler: ({ dashboard }) => dashboard.asset,
  },
  {
    method: 'get',
    path: '/dashboard/etcd-members',
    access: 'admin',
    summary: 'Status of each etcd member, probed by this host (for the dashboard when /cluster is absent)',
    responses: { 200: { description: 'members', schema: z.object({ members: z.array(z.unknown()) }) } },
    handler: ({ dashboard }) => dashboard.etcdMembers,
  },
  {
    method: 'post',
    path: '/admin/keys',
    access: 'admin',
    summary: 'Create an API key; the key is in this response only (etcd keeps its SHA-256)',
    request: { body: { what: 'API key', schema: apiKeyGrantSchema } },
    responses: {
      201: { description: 'created', schema: keyViewSchema.extend({ key: z.string() }) },
      400: { description: 'invalid grant' },
    },
    handler: ({ deps }) => createApiKey(deps, deps.apiKeys),
  },
  {
    method: 'get',
    path: '/admin/keys',
    access: 'admin',
    summary: 'Every API key, without secrets or hashes',
    responses: { 200: { description: 'the keys', schema: z.object({ keys: z.array(keyViewSchema) }) } },
    handler: ({ deps }) => listApiKeys(deps.apiKeys),
  },
  {
    method: 'delete',
    path: '/admin/keys/:id',
    access: 'admin',
    summary: 'Revoke an API key: refused on every host within the key cache TTL (default 1 s)',
    request: { params: { what: 'key id', schemas: { id: keyIdParam } } },
    responses: {
      200: { description: 'the revoked key', schema: keyViewSchema },
      404: { description: 'no such key' },
    },
    handler: ({ deps }) => revokeApiKey(deps, deps.apiKeys),
  },
];

/** `/payments/:id` → a regular expression matching the paths Hono routes there. */
const pathPattern = (path: string) =>
  new RegExp(
    `^${path
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`,
  );

const OPEN_ROUTES = ROUTES.filter((r) => r.access === 'open').map((r) => ({
  method: r.method.toUpperCase(),
  pattern: pathPattern(r.path),
}));

/** Whether the table lets this request past the key gate without a key (HEAD as its GET). */
export const isOpenRoute = (method: string, path: string): boolean =>
  OPEN_ROUTES.some(
    (r) => (r.method === method || (method === 'HEAD' && r.method === 'GET')) && r.pattern.test(path),
  );

export interface MountOptions {
  /** Largest accepted request body, in bytes (413 above it). */
  maxBodyBytes: number;
  /** Time a body may take to arrive, ms (408 past it). Default DEFAULT_BODY_TIMEOUT_MS of request-body.ts. */
  bodyTimeoutMs?: number;
}

/**
 * Documents every table route in `app`'s OpenAPI registry and mounts those this host can serve:
 * scope check, then body read, then validation, then the handler. The key itself is checked
 * earlier, by the gate every request passes (functions/app.ts).
 */
export function mountRoutes(
  app: OpenAPIHono,
  host: RouteHost,
  { maxBodyBytes, bodyTimeoutMs }: MountOptions,
): void {
  for (const route of ROUTES) {
    app.openAPIRegistry.registerPath(openApiRoute(route));
    const handler = route.handler(host);
    if (!handler) continue;
    const scopes = SCOPES[route.access];
    const chain: MiddlewareHandler[] = [
      ...(scopes.length ? [requireScope(...scopes)] : []),
      ...(route.request?.body ? [readBody({ maxBytes: maxBodyBytes, timeoutMs: bodyTimeoutMs })] : []),
      ...(route.request ? [validateRequest(route.request)] : []),
    ];
    app.on(route.method.toUpperCase(), [route.path], ...chain, handler);
  }
}
