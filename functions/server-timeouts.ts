/**
 * Node's own deadlines for a request to arrive (issue 17 §7), set on the host's HTTP server:
 *  - headers within `headersTimeoutMs` (Node's default is 60 s): a client that sends one header
 *    line and then nothing holds its socket no longer than that;
 *  - the whole request within headers + body deadline (Node's default is 300 s): a backstop for a
 *    body no handler asks for. The body deadline proper is readBody's (functions/middleware/
 *    request-body.ts), which answers 408 in the API's error shape from when the handler asks.
 * Node enforces both only when it checks its connections, every `connectionsCheckingInterval`
 * (default 30 s, which would let a slow-headers client keep its socket up to 40 s): every second
 * here. Past either deadline Node emits `clientError` (ERR_HTTP_REQUEST_TIMEOUT), answered 408 by
 * answerMalformedRequest (functions/http-errors.ts).
 */
import type { ServerOptions } from 'node:http';

/** 10 s for the request line and headers: a few hundred bytes, which any client sends at once. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** How often Node checks its connections against the deadlines, ms. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

export interface ServerTimeoutOptions {
  /** Time the request line and headers may take to arrive, ms. Default DEFAULT_HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number;
  /** The body deadline (request-body.ts), ms; the whole request may take headers + body. */
  bodyTimeoutMs: number;
  /** How often Node checks them, ms. Default CONNECTIONS_CHECKING_INTERVAL_MS. */
  checkingIntervalMs?: number;
}

export function serverTimeouts({
  headersTimeoutMs = DEFAULT_HEADERS_TIMEOUT_MS,
  bodyTimeoutMs,
  checkingIntervalMs = CONNECTIONS_CHECKING_INTERVAL_MS,
}: ServerTimeoutOptions): Pick<
  ServerOptions,
  'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'
> {
  return {
    headersTimeout: headersTimeoutMs,
    // Node refuses a headersTimeout above requestTimeout.
    requestTimeout: headersTimeoutMs + bodyTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs,
  };
}
