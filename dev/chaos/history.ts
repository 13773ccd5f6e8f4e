/**
 * The chaos run's history, Jepsen-style: every client operation is an `invoke` event followed by
 * exactly one completion, `ok` (acknowledged), `fail` (definitely not applied, or refused with a
 * definite answer such as a 409) or `unknown` (timed out or cut off: it may or may not have been
 * applied). Times are milliseconds on one monotonic clock of the harness process.
 */
import type { PaymentIntent, StoredPayment } from '../../ledger/payment';

export interface InvokeEvent {
  type: 'invoke';
  /** Unique per operation; the completion carries the same one. */
  op: number;
  client: number;
  time: number;
  intent: PaymentIntent;
}

export interface OkEvent {
  type: 'ok';
  op: number;
  time: number;
  /** 201 first commit, 200 replay. */
  status: 200 | 201;
  payment: StoredPayment;
  /** Host that answered. */
  host: string;
}

export interface FailEvent {
  type: 'fail';
  op: number;
  time: number;
  /** HTTP status of the definite refusal (409, 400), or 0 when no host could be reached at all. */
  status: number;
  error: string;
}

export interface UnknownEvent {
  type: 'unknown';
  op: number;
  time: number;
  error: string;
}

export type CompletionEvent = OkEvent | FailEvent | UnknownEvent;
export type HistoryEvent = InvokeEvent | CompletionEvent;

/** What one host returned for every id and every account once the cluster had healed. */
export interface HostReads {
  host: string;
  /**
   * GET /payments/:id?payer= for every payment (payer, id) any client sent, by paymentKey
   * (`<payer>/<id>`): the payment, or null for a 404.
   */
  byKey: Record<string, StoredPayment | null>;
  /** GET /payments?account= for every account used, all pages, in the order served. */
  byAccount: Record<string, StoredPayment[]>;
}

/** An operation with its completion paired up. */
export interface Operation {
  invoke: InvokeEvent;
  completion: CompletionEvent;
}

/** Pairs invokes with completions; an invoke without one (the run was cut short) is unknown. */
export function pairOperations(history: HistoryEvent[]): Operation[] {
  const completions = new Map<number, CompletionEvent>();
  for (const e of history) if (e.type !== 'invoke') completions.set(e.op, e);
  return history
    .filter((e): e is InvokeEvent => e.type === 'invoke')
    .map((invoke) => ({
      invoke,
      completion: completions.get(invoke.op) ?? {
        type: 'unknown',
        op: invoke.op,
        time: Number.POSITIVE_INFINITY,
        error: 'no completion recorded',
      },
    }));
}
