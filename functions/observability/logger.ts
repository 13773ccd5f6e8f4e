/**
 * Structured JSON logs (pino), one line per event. The host makes one root logger from
 * LOG_LEVEL (functions/config.ts); each request gets a child carrying its request id, and a
 * handler that learns a payment id tags the request with it, so `grep <payment id>` over the
 * host logs finds every line about that payment.
 */
import type { Context } from 'hono';
import { type LevelWithSilent, type Logger, pino } from 'pino';
import type { Clock } from '../../coordination/clock/clock';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = LevelWithSilent;

export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Fields on every line, e.g. `{ host: 'h1' }`. Default none. */
  base?: Record<string, unknown>;
  /** Source of the `time` field, so log times agree with the host's other timestamps. Default Date.now. */
  clock?: Clock;
  /** Where lines go. Default stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level = 'info', base = {}, clock, destination }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    base,
    // ISO times read better in an incident than epoch milliseconds.
    timestamp: clock
      ? () => `,"time":"${new Date(clock.now()).toISOString()}"`
      : pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The hosts' log destination: lines are buffered (32 KiB, flushed at least once a second) and
 * written asynchronously. One write per line cost a host about a tenth of its CPU under load,
 * and one per 4 KiB still 4 %. The price is that a SIGKILLed host loses its last second of lines;
 * the ledger, not the log, is the record of payments. `dest`: a file descriptor or path.
 */
export function bufferedLogDestination(dest: number | string): ReturnType<typeof pino.destination> {
  return pino.destination({
    dest,
    sync: false,
    minLength: 32 * 1024,
    maxWrite: 64 * 1024,
    periodicFlush: 1000,
  });
}

/** A logger that writes nothing: the default for apps built in-process by tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Context variables the logging middleware sets (see functions/middleware/observe-requests.ts):
 * the host's root logger, and the fields every line about the request carries. No child logger
 * is built per request: pino's child() serializes its bindings at once, a few percent of a host's
 * CPU per payment (docs/performance.md); the fields are merged into each line instead.
 */
export interface LogVariables {
  requestId: string;
  log: Logger;
  paymentId: string | undefined;
  payer: string | undefined;
}

type LineLevel = 'debug' | 'info' | 'warn' | 'error';

/** The fields on every line about this request: reqId, then paymentId and payer once known. */
function requestFields(c: Context): Record<string, string> {
  const fields: Record<string, string> = {};
  const reqId = c.get('requestId') as string | undefined;
  const paymentId = c.get('paymentId') as string | undefined;
  const payer = c.get('payer') as string | undefined;
  if (reqId !== undefined) fields.reqId = reqId;
  if (paymentId !== undefined) fields.paymentId = paymentId;
  if (payer !== undefined) fields.payer = payer;
  return fields;
}

const rootLog = (c: Context): Logger => (c.get('log') as Logger | undefined) ?? silentLogger;

/** Writes one line about the request, carrying its fields; nothing is built when the level is off. */
export function logRequest(c: Context, level: LineLevel, line: Record<string, unknown>, msg: string): void {
  const log = rootLog(c);
  if (log.isLevelEnabled(level)) log[level](Object.assign(requestFields(c), line), msg);
}

/** A logger for the request (a child carrying its fields), for the rare paths that log more than a line. */
export function requestLog(c: Context): Logger {
  return rootLog(c).child(requestFields(c));
}

/**
 * Tags the request with the payment it concerns: its later log lines, and the access line, carry
 * the id, and the payer when known (a payment is its payer and id).
 */
export function tagPayment(c: Context, paymentId: string, payer?: string): void {
  c.set('paymentId', paymentId);
  if (payer !== undefined) c.set('payer', payer);
}
