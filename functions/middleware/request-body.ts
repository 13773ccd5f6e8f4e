/**
 * Reads a request body as text, within a byte limit (413 above it), before the handler runs.
 *
 * On a Node host it reads the IncomingMessage itself, with data/end listeners. On
 * @hono/node-server 1.x the Web path (`c.req.text()`) built an undici Request and a ReadableStream
 * for every request, about a quarter of a host's CPU per payment in a profile under load
 * (docs/performance.md). On 2.x that path is cheap (the bench's HTTP ceiling row, which uses
 * `c.req.json()`, costs about 30 µs of host CPU a request); reading the IncomingMessage here keeps
 * the size limit and the body deadline in one place. Where there is no IncomingMessage (`app.request`
 * in tests, other runtimes) it reads the Web Request, with the same limit.
 *
 * Strict on purpose (issue 15 §3): a body is refused with 400 rather than changed on its way to
 * storage. Bytes that are not UTF-8 are not replaced by U+FFFD (the platform's fatal decoder), and
 * parseJsonText refuses what JSON.parse would silently alter: a key given twice (last wins), and a
 * lone surrogate escape (stored as U+FFFD once encoded as UTF-8). That is I-JSON (RFC 7493 §2.1,
 * §2.3): UTF-8, no duplicate names, no surrogate code points.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import { visit } from 'jsonc-parser';
import { type ErrorDetail, InvalidRequestError } from '../../ledger/errors';
import { PayloadTooLargeError, RequestTimeoutError } from '../http-errors';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body as text, set by readBody(). */
    bodyText: string;
  }
}

export interface ReadBodyOptions {
  /** Largest accepted body in bytes; a larger one is answered 413. */
  maxBytes: number;
  /**
   * Time the whole body may take to arrive, ms, from when the handler asks for it; a slower one is
   * answered 408 `request_timeout` and its connection closed. Default DEFAULT_BODY_TIMEOUT_MS.
   */
  timeoutMs?: number;
}

/**
 * 64 KiB in 10 s is 6.5 KB/s, which any client that means to pay reaches; a slow-body client
 * (one byte every 5 s, issue 17 §1) held its slot for Node's 300 s default before.
 */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * Reads with 'data'/'end' listeners rather than `for await`: the async iterator's machinery
 * (Readable.read, end-of-stream, a promise per chunk) was about 3 % of a host's CPU per payment.
 */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error?: Error) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        incoming.pause();
        settle(new PayloadTooLargeError(maxBytes));
      } else chunks.push(chunk);
    };
    const onEnd = () => settle();
    const onError = (error: Error) => settle(error);
    // A client that hangs up mid-body closes the request before its end.
    const onClose = () => settle(new Error('the client closed the connection before the body ended'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
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

/** Rejects with RequestTimeoutError when `read` takes longer than `timeoutMs`, and stops waiting for it. */
async function withinDeadline<T>(read: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(timeoutMs)), timeoutMs);
  });
  // The abandoned read ends with an error once the answer closes the connection.
  read.catch(() => undefined);
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Middleware: reads the body into `c.var.bodyText`; 413 over the limit, 408 past the deadline, 400
 * when the client hangs up or the bytes are not UTF-8.
 */
export function readBody({
  maxBytes,
  timeoutMs = DEFAULT_BODY_TIMEOUT_MS,
}: ReadBodyOptions): MiddlewareHandler {
  return async (c: Context, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
    const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
    let bytes: Buffer;
    try {
      bytes = await withinDeadline(
        incoming instanceof Readable
          ? readIncoming(incoming as IncomingMessage, maxBytes)
          : readWeb(c.req.raw, maxBytes),
        timeoutMs,
      );
    } catch (cause) {
      if (cause instanceof PayloadTooLargeError || cause instanceof RequestTimeoutError) throw cause;
      // A client that hangs up mid-body is a client mistake (400), not a server fault.
      throw new InvalidRequestError(
        'request body could not be read',
        [{ field: '', message: String(cause) }],
        {
          cause,
        },
      );
    }
    c.set('bodyText', decodeUtf8(bytes));
    await next();
  };
}

/** One decoder for every request: without `stream`, decode() keeps no state between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 (a leading byte order mark is dropped, as the Web Request's text() does). */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch (cause) {
    throw new InvalidRequestError(
      'request body is not valid UTF-8',
      [{ field: '', message: 'the body holds bytes that are not UTF-8; send it encoded as UTF-8' }],
      { cause },
    );
  }
}

/** Deepest nesting parseJsonText accepts; a payment is 2 deep. Bounds the recursion below too. */
export const MAX_JSON_DEPTH = 16;

/**
 * JSON.parse, refusing with 400 what it would parse into something other than what was sent:
 * nesting deeper than MAX_JSON_DEPTH, a key given twice in one object, a lone surrogate escape.
 * Each refusal names the field. Syntax is JSON.parse's own (strict RFC 8259); jsonc-parser's
 * scanner only finds duplicate keys, on text JSON.parse has already accepted.
 */
export function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidRequestError('request body is not valid JSON', [{ field: '', message: String(cause) }], {
      cause,
    });
  }
  const { problems, keys } = malformedStrings(value);
  if (problems.length > 0) {
    throw new InvalidRequestError(
      `request body has a lone surrogate escape: ${fieldsOf(problems)}`,
      problems,
    );
  }
  // JSON.parse keeps one key of a duplicated pair: only text naming more keys than the value
  // holds can have a duplicate, and only then is it scanned for where (the common case skips it).
  const duplicates = keyNamesIn(text) > keys ? duplicateKeys(text) : [];
  if (duplicates.length > 0) {
    throw new InvalidRequestError(`request body has a duplicate key: ${fieldsOf(duplicates)}`, duplicates);
  }
  return value;
}

const fieldsOf = (details: ErrorDetail[]) => [...new Set(details.map((d) => d.field))].join(', ');
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Keys and strings holding a lone surrogate, walked without recursion (JSON.parse takes any
 * depth); throws past MAX_JSON_DEPTH, so that the recursive scan for duplicates stays shallow.
 * Also counts the keys of every object (not array indexes), for the duplicate check.
 */
function malformedStrings(root: unknown): { problems: ErrorDetail[]; keys: number } {
  const found: ErrorDetail[] = [];
  let keys = 0;
  const message = 'holds a lone surrogate escape (\\ud800-\\udfff without its pair), which is no character';
  const pending: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (path.length > MAX_JSON_DEPTH) {
      throw new InvalidRequestError(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`, [
        {
          field: path.slice(0, MAX_JSON_DEPTH).join('.'),
          message: `nested deeper than ${MAX_JSON_DEPTH} levels`,
        },
      ]);
    }
    if (typeof value === 'string' && LONE_SURROGATE.test(value))
      found.push({ field: path.join('.'), message });
    if (typeof value !== 'object' || value === null) continue;
    const entries = Object.entries(value);
    if (!Array.isArray(value)) keys += entries.length;
    for (const [key, child] of entries) {
      if (LONE_SURROGATE.test(key))
        found.push({ field: [...path, key].join('.'), message: `key ${message}` });
      pending.push({ value: child, path: [...path, key] });
    }
  }
  return { problems: found, keys };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
/** JSON's insignificant whitespace (RFC 8259 §2): space, tab, line feed, carriage return. */
const isJsonSpace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/**
 * How many object keys `text` names, duplicates included: the strings followed by a colon. Only
 * for text JSON.parse accepted, where a string outside another string is a whole token and a
 * colon after one makes it a key.
 */
function keyNamesIn(text: string): number {
  let names = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== QUOTE) continue;
    for (i++; text.charCodeAt(i) !== QUOTE; i++) {
      if (text.charCodeAt(i) === BACKSLASH) i++; // an escape: its next character cannot close the string
    }
    let j = i + 1;
    while (j < text.length && isJsonSpace(text.charCodeAt(j))) j++;
    if (text.charCodeAt(j) === COLON) names++;
  }
  return names;
}

/** Every key given more than once in the same object, by its dotted path. */
function duplicateKeys(text: string): ErrorDetail[] {
  const found: ErrorDetail[] = [];
  const open: Set<string>[] = [];
  visit(
    text,
    {
      onObjectBegin: () => {
        open.push(new Set());
      },
      onObjectEnd: () => {
        open.pop();
      },
      onObjectProperty: (key, _offset, _length, _line, _column, path) => {
        const keys = open[open.length - 1];
        if (keys?.has(key)) {
          found.push({
            field: [...path(), key].join('.'),
            message: 'given more than once; give each key once',
          });
        }
        keys?.add(key);
      },
    },
    { disallowComments: true },
  );
  return found;
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
