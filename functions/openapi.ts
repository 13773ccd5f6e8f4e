/**
 * The OpenAPI 3.1 document served at /openapi.json, generated at start-up from the zod schemas
 * that validate requests (zod 4's `z.toJSONSchema`), so the document cannot drift from what the
 * handlers accept. Each route is listed once in ROUTE_DOCS; test/unit/openapi.test.ts fails when the
 * app registers a route this table does not describe.
 */

import { z } from 'zod';
import { ERROR_STATUS_BY_CODE, type ErrorCode } from '../ledger/errors';
import { paymentRequestSchema } from '../ledger/payment';
import { apiKeyGrantSchema, apiKeyRecordSchema } from './auth/api-key-record';
import { eventsQuerySchema } from './handlers/events';
import { adjustmentSchema } from './handlers/time';
import { historyQuerySchema, paymentIdParam, paymentLookupQuerySchema } from './query-schemas';

type Method = 'get' | 'post' | 'delete';

/**
 * Who may call a route (functions/auth/): `open` needs no key; `account` needs a key, and the
 * handler checks the accounts involved; `admin` needs the admin scope; `clock` the clock or admin scope.
 */
export type RouteAccess = 'open' | 'account' | 'admin' | 'clock';

interface RouteDoc {
  method: Method;
  /** Hono pattern, e.g. `/payments/:id`. */
  path: string;
  summary: string;
  access: RouteAccess;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject | z.ZodType;
  body?: z.ZodType;
  /** Status → description and optional JSON body schema; error statuses get the error shape. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

const errorCodes = Object.keys(ERROR_STATUS_BY_CODE) as [ErrorCode, ...ErrorCode[]];
const errorSchema = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

/** A committed payment as every host returns it: the request's fields plus what the commit added. */
const storedPaymentSchema = z.object({
  ...paymentRequestSchema.shape,
  id: paymentRequestSchema.shape.id.unwrap(),
  committedAt: z.iso.datetime(),
  sequence: z.number().int().nonnegative(),
  host: z.string(),
});
const historyPageSchema = z.object({
  payments: z.array(storedPaymentSchema),
  nextCursor: z.string().nullable(),
});
const keyGrantDoc = apiKeyGrantSchema;
const keyViewSchema = apiKeyRecordSchema.omit({ secretHash: true });
const hostStatusSchema = z.object({ status: z.string(), host: z.string() });
const text = (description: string, contentType: string) => ({ description, contentType });

export const ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    access: 'open',
    summary: 'Liveness: 200 while the process is up',
    responses: { 200: { description: 'up', schema: hostStatusSchema } },
  },
  {
    method: 'get',
    path: '/ready',
    access: 'open',
    summary: 'Readiness: 200 only while the host reaches an etcd quorum',
    responses: { 200: { description: 'ready', schema: hostStatusSchema }, 503: { description: 'no quorum' } },
  },
  {
    method: 'post',
    path: '/payments',
    access: 'account',
    summary:
      'Make a payment, exactly once per payer and payment id (`id` or the Idempotency-Key header); replays and conflicts are decided within the payer',
    body: paymentRequestSchema,
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
          'no etcd quorum, or host overloaded (code overloaded); retry with the same id after Retry-After',
      },
    },
  },
  {
    method: 'get',
    path: '/payments',
    access: 'account',
    summary: "An account's payments in commit order, a page at a time",
    query: historyQuerySchema,
    responses: {
      200: { description: 'one page', schema: historyPageSchema },
      400: { description: 'invalid query' },
      503: { description: 'no etcd quorum, or host overloaded (code overloaded)' },
    },
  },
  {
    method: 'get',
    path: '/payments/:id',
    access: 'account',
    summary: 'One payment, by id and payer (`?payer=`); without a payer, the only payment with that id',
    params: { id: paymentIdParam },
    query: paymentLookupQuerySchema,
    responses: {
      200: { description: 'the payment', schema: storedPaymentSchema },
      400: { description: 'invalid id or payer' },
      404: { description: 'no such payment (for that payer, when one is given)' },
      409: {
        description:
          'without `?payer=`, more than one payer used the id (ambiguous_payment_id; details list the payers)',
      },
      503: { description: 'no etcd quorum, or host overloaded (code overloaded)' },
    },
  },
  {
    method: 'get',
    path: '/cluster',
    access: 'admin',
    summary: 'Live hosts, the host leader and its fencing token, and the health of each etcd member',
    responses: {
      200: { description: 'the cluster as this host sees it', schema: z.object({}).passthrough() },
    },
  },
  {
    method: 'get',
    path: '/hosts',
    access: 'account',
    summary: "The live hosts' ids and URLs, for client-side discovery (any API key)",
    responses: {
      200: {
        description: 'live hosts',
        schema: z.object({ hosts: z.array(z.object({ id: z.string(), url: z.string() })) }),
      },
    },
  },
  {
    method: 'get',
    path: '/time',
    access: 'open',
    summary: "This host's clock: raw, corrected, cluster-time estimate and error bounds (Cristian, Berkeley)",
    responses: { 200: { description: 'a clock reading', schema: z.object({}).passthrough() } },
  },
  {
    method: 'post',
    path: '/time/adjust',
    access: 'clock',
    summary: "The time master's Berkeley adjustment for this host; accepted only from the leader it knows",
    body: adjustmentSchema,
    responses: {
      200: { description: 'applied', schema: z.object({}).passthrough() },
      400: { description: 'invalid adjustment' },
      409: { description: 'not from the current time master (stale_master)' },
    },
  },
  {
    method: 'get',
    path: '/events',
    access: 'admin',
    summary: 'The merged cluster event log in HLC order, late events reordered behind a watermark',
    query: eventsQuerySchema,
    responses: {
      200: { description: 'one page of events', schema: z.object({}).passthrough() },
      400: { description: 'invalid query' },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    access: 'admin',
    summary: 'Prometheus metrics of this host',
    responses: { 200: text('Prometheus text exposition format', 'text/plain') },
  },
  {
    method: 'get',
    path: '/openapi.json',
    access: 'open',
    summary: 'This document',
    responses: { 200: text('OpenAPI 3.1 document', 'application/json') },
  },
  {
    method: 'get',
    path: '/dashboard',
    access: 'open',
    summary: 'The operator dashboard (HTML)',
    responses: { 200: text('the page', 'text/html') },
  },
  {
    method: 'get',
    path: '/dashboard/assets/:file',
    access: 'open',
    summary: "The dashboard's scripts and styles, served from the installed packages",
    params: { file: z.string() },
    responses: {
      200: text('a script or stylesheet', 'text/javascript'),
      404: { description: 'unknown file' },
    },
  },
  {
    method: 'get',
    path: '/dashboard/etcd-members',
    access: 'admin',
    summary: 'Status of each etcd member, probed by this host (for the dashboard when /cluster is absent)',
    responses: { 200: { description: 'members', schema: z.object({ members: z.array(z.unknown()) }) } },
  },
  {
    method: 'post',
    path: '/admin/keys',
    access: 'admin',
    summary: 'Create an API key; the key is in this response only (etcd keeps its SHA-256)',
    body: keyGrantDoc,
    responses: {
      201: { description: 'created', schema: keyViewSchema.extend({ key: z.string() }) },
      400: { description: 'invalid grant' },
    },
  },
  {
    method: 'get',
    path: '/admin/keys',
    access: 'admin',
    summary: 'Every API key, without secrets or hashes',
    responses: { 200: { description: 'the keys', schema: z.object({ keys: z.array(keyViewSchema) }) } },
  },
  {
    method: 'delete',
    path: '/admin/keys/:id',
    access: 'admin',
    summary: 'Revoke an API key: refused on every host within the key cache TTL (default 1 s)',
    params: { id: z.string() },
    responses: {
      200: { description: 'the revoked key', schema: keyViewSchema },
      404: { description: 'no such key' },
    },
  },
];

/** Answers every keyed route may give, whatever it does. */
const KEYED_RESPONSES: RouteDoc['responses'] = {
  401: { description: 'missing, invalid or revoked API key (WWW-Authenticate: Bearer)' },
  403: { description: "the key's scope does not cover this request" },
  429: { description: "over the key's rate limit; retry after Retry-After" },
};

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
};

/** `/payments/:id` → `/payments/{id}`. */
export const openApiPath = (honoPath: string) => honoPath.replace(/:(\w+)/g, '{$1}');

function operation(route: RouteDoc) {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([name, schema]) => ({
      name,
      in: 'path',
      required: true,
      schema: jsonSchema(schema),
    })),
    ...queryParameters(route.query),
  ];
  const documented = route.access === 'open' ? route.responses : { ...KEYED_RESPONSES, ...route.responses };
  const responses = Object.fromEntries(
    Object.entries(documented).map(([status, r]) => {
      const schema = r.schema ?? (Number(status) >= 400 ? errorSchema : undefined);
      const contentType = r.contentType ?? 'application/json';
      return [
        status,
        schema || r.contentType
          ? {
              description: r.description,
              content: { [contentType]: schema ? { schema: jsonSchema(schema) } : {} },
            }
          : { description: r.description },
      ];
    }),
  );
  return {
    summary: route.summary,
    security: route.access === 'open' ? [] : [{ apiKey: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(route.body) } },
          },
        }
      : {}),
    responses,
  };
}

function queryParameters(query: RouteDoc['query']) {
  if (!query) return [];
  const schema = jsonSchema(query) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: s,
  }));
}

export interface OpenApiOptions {
  /** Shown as info.version. Default 0.1.0. */
  version?: string;
}

export function buildOpenApiDocument({ version = '0.1.0' }: OpenApiOptions = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTE_DOCS) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payments on etcd',
      version,
      description: 'Exactly-once payments by id, served by any function host.',
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key `pay_<id>_<secret>` (npm run keys -- create, or POST /admin/keys)',
        },
      },
    },
  };
}
