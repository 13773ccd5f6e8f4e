/**
 * Turns zod validation failures into InvalidRequestError with one detail per field, so every
 * handler reports bad input the same way: 400, naming the field.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { type ErrorDetail, InvalidRequestError, UnsupportedMediaTypeError } from '../ledger/errors';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The request's JSON body, as read by the readBody middleware (functions/middleware/request-body.ts):
 * 415 unless the content type is JSON, 400 when the text does not parse.
 */
export function jsonBody(c: Context): unknown {
  const contentType = c.req.header('content-type');
  if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
  try {
    return JSON.parse(c.get('bodyText'));
  } catch (cause) {
    throw new InvalidRequestError('request body is not valid JSON', [{ field: '', message: String(cause) }], {
      cause,
    });
  }
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
  const fields = [...new Set(details.map((d) => d.field || what))].join(', ');
  throw new InvalidRequestError(`invalid ${what}: ${fields}`, details);
}
