/**
 * Turns zod validation failures into InvalidRequestError with one detail per field, so every
 * route reports bad input the same way: 400, naming the field. validateRequest() runs the route
 * table's schemas (functions/routes.ts) before the handler, which reads the result with validated().
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { type ErrorDetail, InvalidRequestError } from '../ledger/errors';
import { UnsupportedMediaTypeError } from './http-errors';
import { parseJsonText } from './middleware/request-body';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The request's JSON body, as read by the readBody middleware (functions/middleware/request-body.ts):
 * 415 unless the content type is JSON, 400 when the text does not parse or parseJsonText refuses it.
 */
function jsonBody(c: Context): unknown {
  const contentType = c.req.header('content-type');
  if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
  return parseJsonText(c.get('bodyText'));
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details: ErrorDetail[] = result.error.issues.flatMap((issue) => {
    const field = issue.path.map(String).join('.');
    // An unknown field is reported under its own name, not under the object that holds it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: field ? `${field}.${key}` : key, message: 'unknown field' }));
    }
    return [{ field, message: issue.message }];
  });
  // A problem of the whole part (no field), such as the payment size cap, is named by its own message.
  const fields = [...new Set(details.map((d) => d.field || d.message || what))].join(', ');
  throw new InvalidRequestError(`invalid ${what}: ${fields}`, details);
}

/** The schemas of one route's request parts; `what` names the part in a 400 (`invalid payment id: ...`). */
export interface RequestSchemas {
  /** One schema per path parameter, each validated on its own (a 400 names the part, not `id`). */
  params?: { what: string; schemas: Record<string, z.ZodType> };
  query?: { what: string; schema: z.ZodObject };
  /** A JSON body, as read by readBody (functions/middleware/request-body.ts), which runs first. */
  body?: { what: string; schema: z.ZodType };
}

/**
 * Middleware: validates path parameters, then the query, then the JSON body, against the route's
 * schemas, and leaves what they parsed for validated(). Any failure is thrown, so it is answered
 * by the one error handler (functions/http-errors.ts).
 */
export function validateRequest({ params, query, body }: RequestSchemas): MiddlewareHandler {
  return async (c, next) => {
    if (params) {
      const values = Object.fromEntries(
        Object.entries(params.schemas).map(([name, s]) => [
          name,
          parseOrThrow(s, c.req.param(name), params.what),
        ]),
      );
      c.req.addValidatedData('param', values);
    }
    if (query) c.req.addValidatedData('query', parseOrThrow(query.schema, c.req.query(), query.what));
    if (body) {
      const json = jsonBody(c);
      refuseProtoKeys(json, body.what);
      c.req.addValidatedData('json', parseOrThrow(body.schema, json, body.what) as object);
    }
    await next();
  };
}

/** What validateRequest parsed from one part of the request (the route's schema says its type). */
export const validated = <T>(c: Context, target: 'param' | 'query' | 'json'): T =>
  c.req.valid(target as never) as T;

/**
 * zod's record drops a `__proto__` key (it would set the prototype): refused here, or the entry
 * would vanish from a stored payment's metadata while the request was answered 201. Found by the sweep.
 */
function refuseProtoKeys(body: unknown, what: string): void {
  // Iterative, each path a link to its parent's: a 64 KiB body may nest thousands deep.
  interface Path {
    key: string;
    up?: Path;
  }
  const names = (p?: Path): string[] => {
    const keys: string[] = [];
    for (let at = p; at; at = at.up) keys.push(at.key);
    return keys.reverse();
  };
  const pending: [unknown, Path | undefined][] = [[body, undefined]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value !== 'object' || value === null) continue;
    // At the top the route's strict schema names it an unknown field.
    if (path && !Array.isArray(value) && Object.hasOwn(value, '__proto__')) {
      const owner = names(path).join('.');
      throw new InvalidRequestError(`invalid ${what}: ${owner}.__proto__`, [
        { field: `${owner}.__proto__`, message: `${owner} key __proto__ is reserved` },
      ]);
    }
    for (const [key, item] of Object.entries(value)) pending.push([item, { key, up: path }]);
  }
}
