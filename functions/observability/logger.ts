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

/** A logger that writes nothing: the default for apps built in-process by tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Context variables the logging middleware sets (see functions/middleware/observe-requests.ts). */
export interface LogVariables {
  requestId: string;
  log: Logger;
  paymentId: string | undefined;
}

/** The request's logger; the app's middleware always sets it, the fallback is for handlers run bare. */
export function requestLog(c: Context): Logger {
  return (c.get('log') as Logger | undefined) ?? silentLogger;
}

/**
 * Tags the request with the payment it concerns: its later log lines, and the access line, carry
 * the id, and the payer when known (a payment is its payer and id).
 */
export function tagPayment(c: Context, paymentId: string, payer?: string): Logger {
  c.set('paymentId', paymentId);
  const log = requestLog(c).child(payer === undefined ? { paymentId } : { paymentId, payer });
  c.set('log', log);
  return log;
}
