/**
 * Reads a request body as text, within a byte limit (413 above it), before the handler runs.
 *
 * On a Node host it reads the IncomingMessage itself. The Web path (hono's bodyLimit, then
 * `c.req.text()`) makes @hono/node-server build an undici Request and a ReadableStream for every
 * request; a CPU profile of a host under load put that at about a quarter of the host's CPU per
 * payment (see docs/performance.md). Where there is no IncomingMessage (`app.request` in tests,
 * other runtimes) it reads the Web Request, with the same limit.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import { InvalidRequestError } from '../../ledger/errors';
import { PayloadTooLargeError } from '../http-errors';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body as text, set by readBody(). */
    bodyText: string;
  }
}

export interface ReadBodyOptions {
  /** Largest accepted body in bytes; a larger one is answered 413. */
  maxBytes: number;
}

async function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

async function readWeb(request: Request, maxBytes: number): Promise<Buffer> {
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      void reader.cancel();
      throw new PayloadTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** Middleware: reads the body into `c.var.bodyText`; 413 over the limit, 400 when the client hangs up. */
export function readBody({ maxBytes }: ReadBodyOptions): MiddlewareHandler {
  return async (c: Context, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    let bytes: Buffer;
    try {
      bytes =
        incoming instanceof Readable
          ? await readIncoming(incoming as IncomingMessage, maxBytes)
          : await readWeb(c.req.raw, maxBytes);
    } catch (cause) {
      if (cause instanceof PayloadTooLargeError) throw cause;
      // A client that hangs up mid-body is a client mistake (400), not a server fault.
      throw new InvalidRequestError(
        'request body could not be read',
        [{ field: '', message: String(cause) }],
        {
          cause,
        },
      );
    }
    // Strip a UTF-8 byte order mark, as the Web Request's text() does.
    const text = bytes.toString('utf8');
    c.set('bodyText', text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    await next();
  };
}

/**
 * Closes the connection after any answer that left a declared request body unread (a 401 from
 * the key gate, a 503 from load shedding, a 404 for an unknown route). Whatever follows on the
 * connection is that body; if it turns out malformed (cut short, broken chunking) Node would
 * report a parse error, and answer it, on a connection whose client already has its answer.
 * Registered first in functions/app.ts, so it sees every answer, errors included.
 */
export function closeWhenBodyUnread(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const declared =
      Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
    if (declared && c.get('bodyText') === undefined) c.header('Connection', 'close');
  };
}
