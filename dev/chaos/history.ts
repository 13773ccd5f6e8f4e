/**
 * The chaos run's history, Jepsen-style: every client operation is an `invoke` event followed by
 * exactly one completion, `ok` (acknowledged), `fail` (definitely not applied, or refused with a
 * definite answer such as a 409) or `unknown` (timed out or cut off: it may or may not have been
 * applied). Times are milliseconds on one monotonic clock of the harness process.
 *
 * Reads made during the run are recorded the same way on the same clock: a `read-invoke`, then
 * `read-ok` with what was read, or `read-fail` (no answer that settles it: it checks nothing).
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

/** What a read asks for: one payment by payer and id, or one account's history (all its pages, up to a bound). */
export type ReadQuery = { kind: 'by-id'; payer: string; id: string } | { kind: 'history'; account: string };

export interface ReadInvokeEvent {
  type: 'read-invoke';
  /** Unique per operation, shared with the writes' numbering. */
  op: number;
  client: number;
  time: number;
  query: ReadQuery;
}

/** What a settled read returned. */
export type ReadResult =
  /** By id: 200 with the payment. */
  | { kind: 'found'; payment: StoredPayment }
  /** By id: 404. */
  | { kind: 'not-found' }
  /**
   * History: each payment listed on the pages read, as its paymentKey and sequence, in the order
   * served. `complete` when the last page had no `nextCursor`; otherwise the read stopped at its
   * page bound, and it says nothing about payments with a sequence above the last one listed.
   * `after`, when set, is the sequence the read's first cursor continues after (a cursor an earlier
   * read was given): it says nothing about payments at or below it.
   */
  | { kind: 'history'; listed: [key: string, sequence: number][]; complete: boolean; after?: number };

export interface ReadOkEvent {
  type: 'read-ok';
  op: number;
  time: number;
  result: ReadResult;
  /** Host that answered (the last page's, for a history); a 404 does not say which. */
  host?: string;
}

export interface ReadFailEvent {
  type: 'read-fail';
  op: number;
  time: number;
  error: string;
}

export type ReadEvent = ReadInvokeEvent | ReadOkEvent | ReadFailEvent;
export type HistoryEvent = InvokeEvent | CompletionEvent | ReadEvent;

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

/** Pairs write invokes with completions; an invoke without one (the run was cut short) is unknown. */
export function pairOperations(history: HistoryEvent[]): Operation[] {
  const completions = new Map<number, CompletionEvent>();
  for (const e of history)
    if (e.type === 'ok' || e.type === 'fail' || e.type === 'unknown') completions.set(e.op, e);
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

/** A read with its completion paired up; one without a completion (cut short) failed. */
export interface ReadOperation {
  invoke: ReadInvokeEvent;
  completion: ReadOkEvent | ReadFailEvent;
}

export function pairReads(history: HistoryEvent[]): ReadOperation[] {
  const completions = new Map<number, ReadOkEvent | ReadFailEvent>();
  for (const e of history) if (e.type === 'read-ok' || e.type === 'read-fail') completions.set(e.op, e);
  return history
    .filter((e): e is ReadInvokeEvent => e.type === 'read-invoke')
    .map((invoke) => ({
      invoke,
      completion: completions.get(invoke.op) ?? {
        type: 'read-fail',
        op: invoke.op,
        time: Number.POSITIVE_INFINITY,
        error: 'no completion recorded',
      },
    }));
}
