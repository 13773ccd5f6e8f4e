/**
 * The history checker: a pure function from a recorded history and the final reads from every
 * host to a list of violations. Empty means the run kept every promise of the ledger:
 *
 *  - acknowledged-lost / acknowledged-altered: every ok payment is readable from every host, once,
 *    by payer and id and in both its accounts' histories, with the content and sequence it was
 *    acked with;
 *  - duplicate-record: no payment (payer, id) has two records (in one host's reads, or across hosts);
 *  - phantom-record: no record exists that no client sent (unknown payment, or content nobody sent);
 *  - indeterminate-duplicated: an unknown operation's payment is absent or present exactly once;
 *  - conflict-not-stored: a 409 means another content is stored for the payer's id;
 *  - sequence-duplicate / sequence-realtime: sequences are unique, and if A was acknowledged
 *    before B was first sent then seq(A) < seq(B) (linearizability of the commit order);
 *  - hosts-disagree: every host serves the same record per payment and the same history per account;
 *  - read-stale / read-regressed: the reads made during the run, each payment a write-once register
 *    in real time (dev/chaos/read-checker.ts).
 *
 * A payment is identified by its payer and id (ledger/ledger.ts): the same id under two payers is
 * two payments. Violations name a payment by its `paymentKey`, `<payer>/<id>`.
 */
import {
  type PaymentIntent,
  paymentKey,
  type StoredPayment,
  sameContent,
  serializePayment,
} from '../../ledger/payment';
import { type HistoryEvent, type HostReads, pairOperations } from './history';
import { checkReads } from './read-checker';

export type ViolationKind =
  | 'acknowledged-lost'
  | 'acknowledged-altered'
  | 'duplicate-record'
  | 'phantom-record'
  | 'indeterminate-duplicated'
  | 'conflict-not-stored'
  | 'sequence-duplicate'
  | 'sequence-realtime'
  | 'hosts-disagree'
  | 'read-stale'
  | 'read-regressed';

export interface Violation {
  kind: ViolationKind;
  /** The payment's key (`<payer>/<id>`), or the account, for a disagreement over a history. */
  id: string;
  message: string;
}

export interface CheckResult {
  violations: Violation[];
  /** Distinct payments (payer, id) present in the final reads. */
  recordsRead: number;
  /** Reads made during the run that settled (found, not found, a history), each checked against real time. */
  readsChecked: number;
}

export function checkHistory(history: HistoryEvent[], reads: HostReads[]): CheckResult {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, id: string, message: string) => violations.push({ kind, id, message });
  const ops = pairOperations(history);

  const intentsByKey = new Map<string, PaymentIntent[]>();
  for (const { invoke } of ops) {
    const key = paymentKey(invoke.intent);
    const list = intentsByKey.get(key) ?? [];
    list.push(invoke.intent);
    intentsByKey.set(key, list);
  }

  // One record per payment across every host's reads; two different ones is a duplicate (or disagreement).
  const recordByKey = new Map<string, StoredPayment>();
  const recordsOf = (r: HostReads) => [
    ...Object.values(r.byKey).filter((p): p is StoredPayment => p !== null),
    ...Object.values(r.byAccount).flat(),
  ];
  for (const r of reads) {
    for (const p of recordsOf(r)) {
      const key = paymentKey(p);
      const seen = recordByKey.get(key);
      if (!seen) recordByKey.set(key, p);
      else if (serializePayment(seen) !== serializePayment(p)) {
        add(
          'duplicate-record',
          key,
          `two different records for one payment (${r.host}): ${serializePayment(seen)} vs ${serializePayment(p)}`,
        );
      }
    }
    for (const [account, list] of Object.entries(r.byAccount)) {
      const counts = new Map<string, number>();
      for (const p of list) counts.set(paymentKey(p), (counts.get(paymentKey(p)) ?? 0) + 1);
      for (const [key, n] of counts)
        if (n > 1) add('duplicate-record', key, `${r.host} lists ${key} ${n} times for ${account}`);
    }
  }

  for (const [key, record] of recordByKey) {
    const sent = intentsByKey.get(key);
    if (!sent) add('phantom-record', key, `record ${key} was never sent by any client`);
    else if (!sent.some((intent) => sameContent(intent, record))) {
      add('phantom-record', key, `record ${key} has content no client sent: ${serializePayment(record)}`);
    }
  }

  /** How many times one host shows a payment in each of its accounts' histories. */
  const listedCount = (r: HostReads, account: string, key: string) =>
    (r.byAccount[account] ?? []).filter((p) => paymentKey(p) === key).length;

  for (const { invoke, completion } of ops) {
    const id = paymentKey(invoke.intent);
    if (completion.type === 'ok') {
      const acked = completion.payment;
      if (!sameContent(acked, invoke.intent)) {
        add('acknowledged-altered', id, `op ${invoke.op} was acked with content other than it sent`);
      }
      for (const r of reads) {
        const read = r.byKey[id];
        if (read === undefined || read === null) {
          add(
            'acknowledged-lost',
            id,
            `acked by ${completion.host} (op ${invoke.op}) but ${r.host} answers 404`,
          );
          continue;
        }
        if (serializePayment(read) !== serializePayment(acked)) {
          add(
            'acknowledged-altered',
            id,
            `${r.host} serves ${serializePayment(read)}, acked ${serializePayment(acked)}`,
          );
        }
        for (const account of [acked.payer, acked.payee]) {
          const n = listedCount(r, account, id);
          if (n !== 1)
            add('acknowledged-lost', id, `${r.host} lists acked ${id} ${n} times in ${account}'s history`);
        }
      }
    } else if (completion.type === 'unknown') {
      for (const r of reads) {
        for (const account of [invoke.intent.payer, invoke.intent.payee]) {
          if (listedCount(r, account, id) > 1)
            add('indeterminate-duplicated', id, `${r.host} lists ${id} more than once`);
        }
      }
    } else if (completion.status === 409) {
      const stored = recordByKey.get(id);
      if (!stored || sameContent(stored, invoke.intent)) {
        add(
          'conflict-not-stored',
          id,
          `op ${invoke.op} got 409 but ${stored ? 'its own content' : 'nothing'} is stored`,
        );
      }
    }
  }

  checkSequences(ops, recordByKey, add);
  checkHostsAgree(reads, add);
  const readsChecked = checkReads(history, add);
  return { violations, recordsRead: recordByKey.size, readsChecked };
}

type Add = (kind: ViolationKind, id: string, message: string) => void;

/** `records` by paymentKey. */
function checkSequences(
  ops: ReturnType<typeof pairOperations>,
  records: Map<string, StoredPayment>,
  add: Add,
): void {
  const bySequence = new Map<number, string>();
  for (const [key, p] of records) {
    const other = bySequence.get(p.sequence);
    if (other !== undefined)
      add('sequence-duplicate', key, `sequence ${p.sequence} is held by ${other} and ${key}`);
    bySequence.set(p.sequence, key);
  }
  // For each stored payment: when it was first acknowledged, and the earliest time any op sent the
  // content that is stored (its record was created no earlier than that).
  const firstAck = new Map<string, number>();
  const firstSent = new Map<string, number>();
  for (const { invoke, completion } of ops) {
    const key = paymentKey(invoke.intent);
    const record = records.get(key);
    if (!record) continue;
    if (sameContent(record, invoke.intent)) {
      firstSent.set(key, Math.min(firstSent.get(key) ?? Infinity, invoke.time));
    }
    if (completion.type === 'ok') firstAck.set(key, Math.min(firstAck.get(key) ?? Infinity, completion.time));
  }
  // Sweep payments in order of first send; keep the largest sequence among those acked strictly earlier.
  const acked = [...firstAck].sort((a, b) => a[1] - b[1]);
  const sent = [...firstSent].sort((a, b) => a[1] - b[1]);
  let next = 0;
  let maxSeq = -1;
  let maxId = '';
  for (const [id, sentAt] of sent) {
    while (next < acked.length && acked[next]![1] < sentAt) {
      const [ackedId] = acked[next]!;
      const seq = records.get(ackedId)!.sequence;
      if (seq > maxSeq) {
        maxSeq = seq;
        maxId = ackedId;
      }
      next++;
    }
    const seq = records.get(id)!.sequence;
    if (maxSeq >= seq && maxId !== id) {
      add(
        'sequence-realtime',
        id,
        `${maxId} (sequence ${maxSeq}) was acked before ${id} was sent, yet ${id} has sequence ${seq}`,
      );
    }
  }
}

function checkHostsAgree(reads: HostReads[], add: Add): void {
  const [first, ...rest] = reads;
  if (!first) return;
  for (const r of rest) {
    for (const id of new Set([...Object.keys(first.byKey), ...Object.keys(r.byKey)])) {
      const a = first.byKey[id];
      const b = r.byKey[id];
      if ((a ? serializePayment(a) : null) !== (b ? serializePayment(b) : null)) {
        add('hosts-disagree', id, `${first.host} and ${r.host} serve different answers for ${id}`);
      }
    }
    for (const account of new Set([...Object.keys(first.byAccount), ...Object.keys(r.byAccount)])) {
      const a = (first.byAccount[account] ?? []).map(serializePayment).join('\n');
      const b = (r.byAccount[account] ?? []).map(serializePayment).join('\n');
      if (a !== b)
        add(
          'hosts-disagree',
          account,
          `${first.host} and ${r.host} serve different histories for ${account}`,
        );
    }
  }
}
