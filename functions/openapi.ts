/**
 * The OpenAPI 3.1 document served at /openapi.json, generated at start-up from the zod schemas
 * that validate requests (zod 4's `z.toJSONSchema`), so the document cannot drift from what the
 * handlers accept. Each route is listed once in ROUTE_DOCS; test/openapi.test.ts fails when the
 * app registers a route this table does not describe.
 */

import { z } from 'zod';
import { ERROR_STATUS_BY_CODE, type ErrorCode } from '../ledger/errors';
import { paymentRequestSchema } from '../ledger/payment';
import { eventsQuerySchema } from './events';
import { historyQuerySchema, paymentIdParam } from './query-schemas';
import { adjustmentSchema } from './time';

type Method = 'get' | 'post';

interface RouteDoc {
  method: Method;
  /** Hono pattern, e.g. `/payments/:id`. */
  path: string;
  summary: string;
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
const hostStatusSchema = z.object({ status: z.string(), host: z.string() });
const text = (description: string, contentType: string) => ({ description, contentType });

export const ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness: 200 while the process is up',
    responses: { 200: { description: 'up', schema: hostStatusSchema } },
  },
  {
    method: 'get',
    path: '/ready',
    summary: 'Readiness: 200 only while the host reaches an etcd quorum',
    responses: { 200: { description: 'ready', schema: hostStatusSchema }, 503: { description: 'no quorum' } },
  },
  {
    method: 'post',
    path: '/payments',
    summary: 'Make a payment, exactly once by payment id (`id` or the Idempotency-Key header)',
    body: paymentRequestSchema,
    responses: {
      201: { description: 'committed', schema: storedPaymentSchema },
      200: {
        description: 'replay of the same payment (Idempotent-Replayed: true)',
        schema: storedPaymentSchema,
      },
      400: { description: 'invalid request' },
      409: { description: 'id already used with different content' },
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
    summary: 'One payment',
    params: { id: paymentIdParam },
    responses: {
      200: { description: 'the payment', schema: storedPaymentSchema },
      400: { description: 'invalid id' },
      404: { description: 'no such payment' },
      503: { description: 'no etcd quorum, or host overloaded (code overloaded)' },
    },
  },
  {
    method: 'get',
    path: '/cluster',
    summary: 'Live hosts, the host leader and its fencing token, and the health of each etcd member',
    responses: {
      200: { description: 'the cluster as this host sees it', schema: z.object({}).passthrough() },
    },
  },
  {
    method: 'get',
    path: '/time',
    summary: "This host's clock: raw, corrected, cluster-time estimate and error bounds (Cristian, Berkeley)",
    responses: { 200: { description: 'a clock reading', schema: z.object({}).passthrough() } },
  },
  {
    method: 'post',
    path: '/time/adjust',
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
    summary: 'Prometheus metrics of this host',
    responses: { 200: text('Prometheus text exposition format', 'text/plain') },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: { 200: text('OpenAPI 3.1 document', 'application/json') },
  },
  {
    method: 'get',
    path: '/dashboard',
    summary: 'The operator dashboard (HTML)',
    responses: { 200: text('the page', 'text/html') },
  },
  {
    method: 'get',
    path: '/dashboard/assets/:file',
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
    summary: 'Status of each etcd member, probed by this host (for the dashboard when /cluster is absent)',
    responses: { 200: { description: 'members', schema: z.object({ members: z.array(z.unknown()) }) } },
  },
];

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
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, r]) => {
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
  };
}
