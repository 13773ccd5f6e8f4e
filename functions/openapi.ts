/**
 * The OpenAPI 3.1 document served at /openapi.json, built by @hono/zod-openapi (createRoute, and
 * OpenAPIHono's registry and generator) from the route table in functions/routes.ts: the same zod
 * schemas that validate requests, so the document cannot drift from what the host accepts.
 * This file only adds what the table leaves implicit: the error shape, the answers every keyed
 * route may give, and the security scheme.
 */
import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { paymentRequestSchema } from '../ledger/payment';
import { type ApiErrorCode, ERROR_STATUS_BY_CODE } from './http-errors';
import type { RouteSpec } from './route-spec';

const errorCodes = Object.keys(ERROR_STATUS_BY_CODE) as [ApiErrorCode, ...ApiErrorCode[]];
const errorSchema = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    /** The error's Retryable mark: true when the same request may be sent again, on any host. */
    retryable: z.boolean(),
    details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

/** A committed payment as every host returns it: the request's fields plus what the commit added. */
export const storedPaymentSchema = z.object({
  ...paymentRequestSchema.shape,
  id: paymentRequestSchema.shape.id.unwrap(),
  committedAt: z.iso.datetime(),
  sequence: z.number().int().nonnegative(),
  host: z.string(),
});

/** Answers every keyed route may give, whatever it does. */
const KEYED_RESPONSES: RouteSpec['responses'] = {
  401: { description: 'missing, invalid or revoked API key (WWW-Authenticate: Bearer)' },
  403: { description: "the key's scope does not cover this request" },
  429: { description: "over the key's rate limit; retry after Retry-After" },
};

/** `/payments/:id` → `/payments/{id}`. */
export const openApiPath = (honoPath: string) => honoPath.replace(/:(\w+)/g, '{$1}');

/** One table entry as @hono/zod-openapi describes a route. */
export function openApiRoute(route: RouteSpec): RouteConfig {
  const documented = route.access === 'open' ? route.responses : { ...KEYED_RESPONSES, ...route.responses };
  const responses = Object.fromEntries(
    Object.entries(documented).map(([status, r]) => {
      const schema = r.schema ?? (Number(status) >= 400 ? errorSchema : undefined);
      const contentType = r.contentType ?? 'application/json';
      if (!schema && !r.contentType) return [status, { description: r.description }];
      return [status, { description: r.description, content: { [contentType]: schema ? { schema } : {} } }];
    }),
  );
  const { params, query, body } = route.request ?? {};
  return createRoute({
    method: route.method,
    path: openApiPath(route.path),
    summary: route.summary,
    security: route.access === 'open' ? [] : [{ apiKey: [] }],
    request: {
      ...(params ? { params: z.object(params.schemas) } : {}),
      ...(query ? { query: query.schema } : {}),
      ...(body ? { body: { required: true, content: { 'application/json': { schema: body.schema } } } } : {}),
    },
    responses,
  });
}

export interface OpenApiOptions {
  /** Shown as info.version. Default 0.1.0. */
  version?: string;
}

/** The document of every route registered in `app`'s registry (functions/routes.ts registers the whole table). */
export function buildOpenApiDocument(app: OpenAPIHono, { version = '0.1.0' }: OpenApiOptions = {}) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key `pay_<id>_<secret>` (npm run keys -- create, or POST /admin/keys)',
  });
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Payments on etcd',
      version,
      description: 'Exactly-once payments by id, served by any function host.',
    },
  });
}
