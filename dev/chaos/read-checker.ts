/**
 * Checks the reads made during the run: each payment (payer, id) is a write-once register, and
 * reads must respect real time (the linearizability of a register, Herlihy & Wing §3, specialised
 * to one write):
 *
 *  - read-stale: a read invoked after the payment was acknowledged finds it: by id, found with
 *    the content it was acked with; in a history of its payer or payee, listed;
 *  - read-regressed: once a read has returned the payment (completed), no read invoked later
 *    misses it (or, by id, returns other content).
 *
 * "After" is strict, on the one clock of the history. A read that overlaps the ack, or the read
 * that first returned the payment, may go either way. A failed read checks nothing. A history read
 * that stopped at its page bound only speaks for payments up to the last sequence it listed, and
 * one that started from an earlier read's cursor only for payments after it.
 */
import { paymentKey, type StoredPayment, serializePayment } from '../../ledger/payment';
import {
  type HistoryEvent,
  pairOperations,
  pairReads,
  type ReadInvokeEvent,
  type ReadOkEvent,
} from './history';

type Add = (kind: 'read-stale' | 'read-regressed', id: string, message: string) => void;

interface SettledRead {
  invoke: ReadInvokeEvent;
  completion: ReadOkEvent;
  /** For a history: the keys it listed. */
  keys?: Set<string>;
  /** For a history: the sequences it speaks for, (after, through] (through is Infinity when complete). */
  after?: number;
  through?: number;
}

/** What is known of one payment: its ack, and the first read that returned it. */
interface Register {
  payer: string;
  payee?: string;
  sequence?: number;
  acked?: { time: number; payment: StoredPayment; op: number };
  firstSeen?: { time: number; op: number; payment?: StoredPayment };
}

/** Applies both rules to every settled read; returns how many reads were settled (checked). */
export function checkReads(history: HistoryEvent[], add: Add): number {
  const registers = new Map<string, Register>();
  const register = (key: string, payer: string) => {
    const known = registers.get(key);
    if (known) return known;
    const r: Register = { payer };
    registers.set(key, r);
    return r;
  };
  for (const { invoke, completion } of pairOperations(history)) {
    // A payer's id always names the same payee in this workload (a conflicting resend changes only the amount).
    const r = register(paymentKey(invoke.intent), invoke.intent.payer);
    r.payee ??= invoke.intent.payee;
    if (completion.type !== 'ok') continue;
    if (!r.acked || completion.time < r.acked.time) {
      r.acked = { time: completion.time, payment: completion.payment, op: invoke.op };
      r.sequence = completion.payment.sequence;
    }
  }

  const byKey = new Map<string, SettledRead[]>();
  const byAccount = new Map<string, SettledRead[]>();
  const push = <K>(map: Map<K, SettledRead[]>, k: K, read: SettledRead) =>
    map.set(k, [...(map.get(k) ?? []), read]);
  const seen = (key: string, payer: string, read: SettledRead, sequence: number, payment?: StoredPayment) => {
    const r = register(key, payer);
    r.sequence ??= sequence;
    if (!r.firstSeen || read.completion.time < r.firstSeen.time)
      r.firstSeen = { time: read.completion.time, op: read.invoke.op, payment };
  };
  let settled = 0;
  for (const { invoke, completion } of pairReads(history)) {
    if (completion.type !== 'read-ok') continue;
    settled++;
    const { query } = invoke;
    const { result } = completion;
    const read: SettledRead = { invoke, completion };
    if (query.kind === 'by-id') {
      const key = paymentKey(query);
      push(byKey, key, read);
      if (result.kind === 'found') seen(key, query.payer, read, result.payment.sequence, result.payment);
    } else if (result.kind === 'history') {
      read.keys = new Set(result.listed.map(([key]) => key));
      read.after = result.after ?? Number.NEGATIVE_INFINITY;
      read.through = result.complete ? Number.POSITIVE_INFINITY : (result.listed.at(-1)?.[1] ?? -1);
      push(byAccount, query.account, read);
      for (const [key, sequence] of result.listed)
        seen(key, key.slice(0, key.lastIndexOf('/')), read, sequence);
    }
  }

  for (const [key, r] of registers) {
    const reads = [
      ...(byKey.get(key) ?? []),
      ...(byAccount.get(r.payer) ?? []),
      ...(r.payee === undefined ? [] : (byAccount.get(r.payee) ?? [])),
    ];
    for (const read of reads) {
      const start = read.invoke.time;
      const miss = missed(read, key, r);
      if (!miss) continue;
      const what = describeRead(read);
      if (r.acked && r.acked.time < start) {
        add(
          'read-stale',
          key,
          `${what} (op ${read.invoke.op}, invoked at ${start.toFixed(0)} ms) ${miss}, though it was acked at ${r.acked.time.toFixed(0)} ms (op ${r.acked.op})`,
        );
      } else if (r.firstSeen && r.firstSeen.time < start) {
        add(
          'read-regressed',
          key,
          `${what} (op ${read.invoke.op}, invoked at ${start.toFixed(0)} ms) ${miss}, though op ${r.firstSeen.op} returned it at ${r.firstSeen.time.toFixed(0)} ms`,
        );
      }
    }
  }
  return settled;
}

/** Why `read` does not show the payment as it should, or undefined when it does (or cannot say). */
function missed(read: SettledRead, key: string, r: Register): string | undefined {
  const { result } = read.completion;
  if (result.kind === 'not-found') return 'found nothing';
  if (result.kind === 'found') {
    const expected = r.acked?.payment ?? r.firstSeen?.payment;
    if (expected && serializePayment(expected) !== serializePayment(result.payment))
      return `returned ${serializePayment(result.payment)}, not ${serializePayment(expected)}`;
    return undefined;
  }
  // A history: it speaks only for sequences from where it started to where it stopped.
  const { after = Number.NEGATIVE_INFINITY, through = -1 } = read;
  if (r.sequence === undefined || r.sequence <= after || r.sequence > through) return undefined;
  return read.keys?.has(key) ? undefined : 'does not list it';
}

function describeRead({ invoke, completion }: SettledRead): string {
  const q = invoke.query;
  const at = completion.host ? `on ${completion.host}` : 'on some host';
  return q.kind === 'by-id' ? `GET ${paymentKey(q)} ${at}` : `history of ${q.account} ${at}`;
}
