/**
 * The history checker on hand-made histories: a clean one passes, and each kind of violation,
 * planted on purpose, is reported with its kind and id (a checker that never complains is useless).
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent, HostReads, ReadQuery, ReadResult } from '../../dev/chaos/history';
import { checkHistory, type ViolationKind } from '../../dev/chaos/history-checker';
import { completion } from '../../dev/chaos/workload';
import { type PaymentIntent, paymentKey, type StoredPayment } from '../../ledger/payment';

const intent = (id: string, amount = 100, payer = 'alice'): PaymentIntent => ({
  id,
  payer,
  payee: 'bob',
  amount,
  currency: 'EUR',
});
const stored = (p: PaymentIntent, sequence: number): StoredPayment => ({
  ...p,
  committedAt: '2026-01-01T00:00:00.000Z',
  sequence,
  host: 'h1',
});

/** A builder: operations with explicit times, then reads made the same on every host. */
class Scenario {
  events: HistoryEvent[] = [];
  private op = 0;
  ok(p: PaymentIntent, sequence: number, invokedAt: number, ackedAt: number, status: 200 | 201 = 201) {
    const op = ++this.op;
    this.events.push({ type: 'invoke', op, client: 1, time: invokedAt, intent: p });
    this.events.push({ type: 'ok', op, time: ackedAt, status, payment: stored(p, sequence), host: 'h1' });
    return this;
  }
  unknown(p: PaymentIntent, at: number) {
    const op = ++this.op;
    this.events.push({ type: 'invoke', op, client: 2, time: at, intent: p });
    this.events.push({ type: 'unknown', op, time: at + 10, error: 'timeout' });
    return this;
  }
  fail(p: PaymentIntent, status: number, at: number) {
    const op = ++this.op;
    this.events.push({ type: 'invoke', op, client: 3, time: at, intent: p });
    this.events.push({ type: 'fail', op, time: at + 1, status, error: String(status) });
    return this;
  }
  /** A read made during the run, invoked at `from` and settled at `to`; `result` undefined means it failed. */
  read(query: ReadQuery, from: number, to: number, result?: ReadResult) {
    const op = ++this.op;
    this.events.push({ type: 'read-invoke', op, client: 4, time: from, query });
    this.events.push(
      result
        ? { type: 'read-ok', op, time: to, result, host: 'h2' }
        : { type: 'read-fail', op, time: to, error: 'gave up after 8 attempts' },
    );
    return this;
  }
}

/** Results of reads during the run. */
const byId = (p: PaymentIntent): ReadQuery => ({ kind: 'by-id', payer: p.payer, id: p.id });
const ofAccount = (account: string): ReadQuery => ({ kind: 'history', account });
const found = (payment: StoredPayment): ReadResult => ({ kind: 'found', payment });
const notFound: ReadResult = { kind: 'not-found' };
const listing = (payments: StoredPayment[], complete = true): ReadResult => ({
  kind: 'history',
  listed: payments.map((p) => [paymentKey(p), p.sequence]),
  complete,
});

/** Reads as a correct cluster would serve them, from each of `hosts`; `ids` are alice's unless `payer/id`. */
function readsOf(records: StoredPayment[], ids: string[], hosts = ['h1', 'h2', 'h3']): HostReads[] {
  const keys = ids.map((id) => (id.includes('/') ? id : `alice/${id}`));
  return hosts.map((host) => ({
    host,
    byKey: Object.fromEntries(keys.map((k) => [k, records.find((r) => paymentKey(r) === k) ?? null])),
    byAccount: Object.fromEntries(
      ['alice', 'bob', ...records.map((r) => r.payer)].map((account) => [
        account,
        records
          .filter((r) => r.payer === account || r.payee === account)
          .sort((x, y) => x.sequence - y.sequence),
      ]),
    ),
  }));
}

const kinds = (result: ReturnType<typeof checkHistory>): ViolationKind[] => [
  ...new Set(result.violations.map((v) => v.kind)),
];

describe('history checker', () => {
  const a = intent('a');
  const b = intent('b');
  const c = intent('c');

  it('passes a correct history with a replay, a conflict and indeterminate operations', () => {
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(a, 1000, 20, 30, 200)
      .fail(intent('a', 999), 409, 40)
      .ok(b, 2000, 50, 60)
      .unknown(c, 70)
      .unknown(intent('d'), 80);
    const records = [stored(a, 1000), stored(b, 2000), stored(c, 3000)];
    const result = checkHistory(s.events, readsOf(records, ['a', 'b', 'c', 'd']));
    expect(result.violations).toEqual([]);
    expect(result.recordsRead).toBe(3);
  });

  it('reports an acknowledged payment that a host cannot find', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).ok(b, 2000, 20, 30);
    const reads = readsOf([stored(a, 1000), stored(b, 2000)], ['a', 'b']);
    reads[2]!.byKey['alice/b'] = null;
    reads[2]!.byAccount.alice = reads[2]!.byAccount.alice!.filter((p) => p.id !== 'b');
    const result = checkHistory(s.events, reads);
    expect(kinds(result)).toContain('acknowledged-lost');
    expect(result.violations.find((v) => v.kind === 'acknowledged-lost')?.id).toBe('alice/b');
  });

  it('reports an acknowledged payment served with other content', () => {
    const s = new Scenario().ok(a, 1000, 0, 10);
    const reads = readsOf([stored(a, 1000)], ['a']);
    reads[1]!.byKey['alice/a'] = { ...stored(a, 1000), committedAt: '2027-01-01T00:00:00.000Z' };
    expect(kinds(checkHistory(s.events, reads))).toContain('acknowledged-altered');
  });

  it('reports two records for one id', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).ok(b, 2000, 20, 30);
    const reads = readsOf([stored(a, 1000), stored(b, 2000)], ['a', 'b']);
    for (const r of reads) r.byAccount.alice!.push(stored(a, 5000));
    expect(kinds(checkHistory(s.events, reads))).toContain('duplicate-record');
  });

  it('reports a record that no client sent, and one whose content no client sent', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).unknown(b, 20);
    const ghost = stored(intent('ghost'), 3000);
    const forged = stored(intent('b', 7), 2000);
    const result = checkHistory(s.events, readsOf([stored(a, 1000), forged, ghost], ['a', 'b']));
    const phantoms = result.violations.filter((v) => v.kind === 'phantom-record').map((v) => v.id);
    expect(phantoms.sort()).toEqual(['alice/b', 'alice/ghost']);
  });

  it('reports an indeterminate payment that appears twice', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).unknown(c, 20);
    const reads = readsOf([stored(a, 1000), stored(c, 3000)], ['a', 'c']);
    reads[0]!.byAccount.bob!.push(stored(c, 3000));
    expect(kinds(checkHistory(s.events, reads))).toContain('indeterminate-duplicated');
  });

  it('reports a 409 for an id whose stored content is the same as the refused one', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).fail(a, 409, 20);
    expect(kinds(checkHistory(s.events, readsOf([stored(a, 1000)], ['a'])))).toEqual(['conflict-not-stored']);
  });

  it('reports two payments with one sequence', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).ok(b, 1000, 0, 10);
    expect(kinds(checkHistory(s.events, readsOf([stored(a, 1000), stored(b, 1000)], ['a', 'b'])))).toContain(
      'sequence-duplicate',
    );
  });

  it('reports a payment sent after another was acked that got a smaller sequence', () => {
    // b is sent at t=20, after a was acked at t=10, yet b's sequence is smaller.
    const s = new Scenario().ok(a, 2000, 0, 10).ok(b, 1000, 20, 30);
    const result = checkHistory(s.events, readsOf([stored(a, 2000), stored(b, 1000)], ['a', 'b']));
    expect(kinds(result)).toEqual(['sequence-realtime']);
    expect(result.violations[0]!.id).toBe('alice/b');
  });

  it('allows any sequence order between operations that overlapped in time', () => {
    const s = new Scenario().ok(a, 2000, 0, 30).ok(b, 1000, 10, 40);
    expect(
      checkHistory(s.events, readsOf([stored(a, 2000), stored(b, 1000)], ['a', 'b'])).violations,
    ).toEqual([]);
  });

  it('judges real-time order by the first send of the stored content, not by a later replay', () => {
    // b was first sent at 0 (unknown), a was acked at 10, b was replayed at 20: b may precede a.
    const s = new Scenario().unknown(b, 0).ok(a, 2000, 5, 10).ok(b, 1000, 20, 30, 200);
    expect(
      checkHistory(s.events, readsOf([stored(a, 2000), stored(b, 1000)], ['a', 'b'])).violations,
    ).toEqual([]);
  });

  it('reports hosts whose history queries disagree', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).unknown(b, 20);
    const reads = readsOf([stored(a, 1000), stored(b, 2000)], ['a', 'b']);
    // h3 misses the indeterminate b, by id and in its histories
    reads[2]!.byKey['alice/b'] = null;
    reads[2]!.byAccount.alice = [stored(a, 1000)];
    reads[2]!.byAccount.bob = [stored(a, 1000)];
    const result = checkHistory(s.events, reads);
    expect(kinds(result)).toEqual(['hosts-disagree']);
    expect(result.violations.map((v) => v.id).sort()).toEqual(['alice', 'alice/b', 'bob']);
  });

  it('counts one id under two payers as two payments, each read back by its payer', () => {
    // carol uses alice's id a for a payment of her own (to bob): a new payment, not a duplicate.
    const carols = intent('a', 500, 'carol');
    const s = new Scenario().ok(a, 1000, 0, 10).ok(carols, 2000, 20, 30).ok(carols, 2000, 40, 50, 200);
    const records = [stored(a, 1000), stored(carols, 2000)];
    const reads = readsOf(records, ['a', 'carol/a']);
    const result = checkHistory(s.events, reads);
    expect(result.violations).toEqual([]);
    expect(result.recordsRead).toBe(2);
    // A host that serves alice's payment when asked for carol's has lost carol's.
    reads[1]!.byKey['carol/a'] = stored(a, 1000);
    expect(kinds(checkHistory(s.events, reads))).toContain('acknowledged-altered');
  });

  it('judges a 409 within the payer: another payer holding the id does not explain it', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).fail(intent('a', 999, 'carol'), 409, 20);
    const result = checkHistory(s.events, readsOf([stored(a, 1000)], ['a', 'carol/a']));
    expect(kinds(result)).toEqual(['conflict-not-stored']);
    expect(result.violations[0]!.id).toBe('carol/a');
  });

  it('treats an invoke without a completion as indeterminate', () => {
    const events: HistoryEvent[] = [{ type: 'invoke', op: 1, client: 1, time: 0, intent: a }];
    expect(checkHistory(events, readsOf([stored(a, 1000)], ['a'])).violations).toEqual([]);
    expect(checkHistory(events, readsOf([], ['a'])).violations).toEqual([]);
  });
});

describe('history checker: reads during the run, each payment a write-once register', () => {
  const a = intent('a');
  const b = intent('b');
  const records = [stored(a, 1000), stored(b, 2000)];
  const final = () => readsOf(records, ['a', 'b']);

  it('passes reads that find what was acked, and counts every settled read', () => {
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(b, 2000, 20, 30)
      .read(byId(a), 11, 15, found(stored(a, 1000)))
      .read(ofAccount('bob'), 31, 40, listing(records))
      .read(ofAccount('alice'), 35, 41, listing([stored(a, 1000)], false))
      .read(byId(intent('never-sent')), 50, 60, notFound);
    const result = checkHistory(s.events, final());
    expect(result.violations).toEqual([]);
    expect(result.readsChecked).toBe(4);
  });

  it('reports a read by id invoked after the ack that finds nothing, or other content', () => {
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .read(byId(a), 11, 20, notFound)
      .read(byId(a), 12, 20, found({ ...stored(a, 1000), sequence: 999 }));
    const result = checkHistory(s.events, readsOf([stored(a, 1000)], ['a']));
    expect(result.violations.map((v) => [v.kind, v.id])).toEqual([
      ['read-stale', 'alice/a'],
      ['read-stale', 'alice/a'],
    ]);
  });

  it('reports a history read invoked after the ack that does not list the payment', () => {
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(b, 2000, 20, 30)
      .read(ofAccount('bob'), 31, 40, listing([stored(a, 1000)]));
    const result = checkHistory(s.events, final());
    expect(result.violations.map((v) => [v.kind, v.id])).toEqual([['read-stale', 'alice/b']]);
  });

  it('lets a read invoked before the ack miss the payment', () => {
    // b is acked at 30; both reads were invoked at 25, while b was being committed.
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(b, 2000, 20, 30)
      .read(byId(b), 25, 35, notFound)
      .read(ofAccount('alice'), 25, 35, listing([stored(a, 1000)]));
    expect(checkHistory(s.events, final()).violations).toEqual([]);
  });

  it('lets a history read cut at its page bound say nothing of payments past its last sequence', () => {
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(b, 2000, 20, 30)
      .read(ofAccount('alice'), 31, 40, listing([stored(a, 1000)], false));
    expect(checkHistory(s.events, final()).violations).toEqual([]);
  });

  it("lets a history read from an earlier read's cursor say nothing of payments at or before it", () => {
    const fromCursor = (after: number, payments: StoredPayment[]): ReadResult => ({
      kind: 'history',
      listed: payments.map((p) => [paymentKey(p), p.sequence]),
      complete: true,
      after,
    });
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(b, 2000, 20, 30)
      .read(ofAccount('alice'), 31, 40, fromCursor(1000, [stored(b, 2000)]));
    expect(checkHistory(s.events, final()).violations).toEqual([]);
    // ... but it does speak for the payments after it.
    s.read(ofAccount('bob'), 41, 50, fromCursor(999, [stored(b, 2000)]));
    expect(kinds(checkHistory(s.events, final()))).toEqual(['read-stale']);
  });

  it('reports a read that misses a payment after another read returned it', () => {
    // b's write is still in flight (acked at 100); one read returned it at 40, a later one misses it.
    const s = new Scenario()
      .ok(a, 1000, 0, 10)
      .ok(b, 2000, 20, 100)
      .read(byId(b), 30, 40, found(stored(b, 2000)))
      .read(byId(b), 41, 50, notFound)
      .read(ofAccount('bob'), 45, 55, listing([stored(a, 1000)]));
    const result = checkHistory(s.events, final());
    expect(result.violations.map((v) => [v.kind, v.id])).toEqual([
      ['read-regressed', 'alice/b'],
      ['read-regressed', 'alice/b'],
    ]);
  });

  it('reports a read by id that misses a payment a history listed earlier', () => {
    const s = new Scenario()
      .unknown(b, 20)
      .read(ofAccount('alice'), 30, 40, listing([stored(b, 2000)]))
      .read(byId(b), 41, 50, notFound);
    const result = checkHistory(s.events, readsOf([stored(b, 2000)], ['b']));
    expect(kinds(result)).toEqual(['read-regressed']);
  });

  it('lets reads that overlap the first one to return a payment miss it', () => {
    const s = new Scenario()
      .unknown(b, 20)
      .read(byId(b), 30, 40, found(stored(b, 2000)))
      .read(byId(b), 35, 45, notFound);
    expect(checkHistory(s.events, readsOf([stored(b, 2000)], ['b'])).violations).toEqual([]);
  });

  it('ignores failed reads: they check nothing and are not counted', () => {
    const s = new Scenario().ok(a, 1000, 0, 10).read(byId(a), 11, 20).read(ofAccount('alice'), 12, 20);
    s.events.push({ type: 'read-invoke', op: 99, client: 4, time: 13, query: byId(a) }); // cut short
    const result = checkHistory(s.events, readsOf([stored(a, 1000)], ['a']));
    expect(result.violations).toEqual([]);
    expect(result.readsChecked).toBe(0);
  });
});

describe('chaos completions from PaymentsClient outcomes', () => {
  const p = intent('p1');
  it('records an acknowledged payment as ok, with its status and host', () => {
    const outcome = { kind: 'replayed', payment: stored(p, 7), attempts: 2, host: 'http://h2' } as const;
    expect(completion(3, 50, outcome)).toEqual({
      type: 'ok',
      op: 3,
      time: 50,
      status: 200,
      payment: stored(p, 7),
      host: 'http://h2',
    });
  });
  it('records a definite refusal as fail with its status', () => {
    const error = { code: 'idempotency_conflict', message: 'other content', retryable: false };
    expect(completion(3, 50, { kind: 'conflict', status: 409, error, attempts: 1 })).toMatchObject({
      type: 'fail',
      status: 409,
    });
  });
  it('records a give-up that may have been applied as unknown, and one never delivered as fail 0', () => {
    const failed = { kind: 'failed', reason: 'deadline passed', attempts: 8 } as const;
    expect(completion(3, 50, { ...failed, indeterminate: true })).toEqual({
      type: 'unknown',
      op: 3,
      time: 50,
      error: 'deadline passed',
    });
    expect(completion(3, 50, { ...failed, indeterminate: false })).toMatchObject({ type: 'fail', status: 0 });
  });
});
