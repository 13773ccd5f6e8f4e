/**
 * The ledger contract: one suite, run against every PaymentLedger implementation (the etcd one
 * and the in-memory fake), so the fake cannot drift from the real thing.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, InvalidRequestError } from '../../ledger/errors';
import { HISTORY_PAGE_BYTES, MAX_PAYMENTS_PER_ID, type PaymentLedger } from '../../ledger/ledger';
import {
  MAX_PAYMENT_BYTES,
  type PaymentIntent,
  STORED_OVERHEAD_BYTES,
  serializePayment,
} from '../../ledger/payment';

/** Gives a fresh, empty ledger for each test. */
export type LedgerFactory = () => Promise<PaymentLedger>;

const context = (host = 'h-test', committedAt = new Date().toISOString()) => ({ host, committedAt });

export function intent(overrides: Partial<PaymentIntent> = {}): PaymentIntent {
  return {
    id: `p-${randomUUID()}`,
    payer: 'alice',
    payee: 'bob',
    amount: 1250,
    currency: 'EUR',
    ...overrides,
  };
}

export function ledgerContract(name: string, fresh: LedgerFactory): void {
  describe(`ledger contract: ${name}`, () => {
    it('commits a new payment once and reads it back', async () => {
      const ledger = await fresh();
      const p = intent({ description: 'order 42', metadata: { order: '42' } });
      const outcome = await ledger.commit(p, context('h1', '2026-01-02T03:04:05.678Z'));
      expect(outcome.kind).toBe('committed');
      expect(outcome.payment).toMatchObject({ ...p, host: 'h1', committedAt: '2026-01-02T03:04:05.678Z' });
      expect(Number.isSafeInteger(outcome.payment.sequence)).toBe(true);
      expect(await ledger.get(p.id, p.payer)).toEqual(outcome.payment);
    });

    it('answers a retry with the same content as a replay of the stored payment', async () => {
      const ledger = await fresh();
      const p = intent({ metadata: { a: '1', b: '2' } });
      const first = await ledger.commit(p, context('h1'));
      const again = await ledger.commit(
        { ...p, metadata: { b: '2', a: '1' } },
        context('h2', '2030-01-01T00:00:00.000Z'),
      );
      expect(again.kind).toBe('replayed');
      expect(again.payment).toEqual(first.payment);
    });

    it('keeps the HLC timestamp a commit carries, and returns it on replay and read', async () => {
      const ledger = await fresh();
      const p = intent();
      const hlc = '001800000000000.00003';
      expect((await ledger.commit(p, { ...context('h1'), hlc })).payment.hlc).toBe(hlc);
      const replay = await ledger.commit(p, { ...context('h2'), hlc: '001800000000009.00000' });
      expect(replay.payment.hlc).toBe(hlc);
      expect((await ledger.get(p.id, p.payer))?.hlc).toBe(hlc);
    });

    it('rejects the same id with different content and keeps the stored payment', async () => {
      const ledger = await fresh();
      const p = intent();
      const first = await ledger.commit(p, context());
      await expect(ledger.commit({ ...p, amount: p.amount + 1 }, context())).rejects.toBeInstanceOf(
        IdempotencyConflictError,
      );
      await expect(ledger.commit({ ...p, description: 'x' }, context())).rejects.toBeInstanceOf(
        IdempotencyConflictError,
      );
      expect(await ledger.get(p.id, p.payer)).toEqual(first.payment);
    });

    it('records exactly one of many concurrent commits of one id', async () => {
      const ledger = await fresh();
      const p = intent();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => ledger.commit(p, context(`h${i % 3}`))),
      );
      expect(outcomes.filter((o) => o.kind === 'committed')).toHaveLength(1);
      const stored = await ledger.get(p.id, p.payer);
      for (const o of outcomes) expect(o.payment).toEqual(stored);
    });

    it('records one payment per payer when payers race on one id', async () => {
      const ledger = await fresh();
      const id = `race-${randomUUID()}`;
      const payers = ['r-1', 'r-2', 'r-3'];
      const outcomes = await Promise.all(
        Array.from({ length: 18 }, (_, i) => ledger.commit(intent({ id, payer: payers[i % 3]! }), context())),
      );
      expect(outcomes.filter((o) => o.kind === 'committed')).toHaveLength(3);
      const found = await ledger.findById(id);
      expect(found.map((p) => p.payer).sort()).toEqual(payers);
      expect(found.map((p) => p.sequence)).toEqual([...found.map((p) => p.sequence)].sort((a, b) => a - b));
    });

    it('gives unique sequences that follow commit order', async () => {
      const ledger = await fresh();
      const sequential = [];
      for (let i = 0; i < 5; i++)
        sequential.push((await ledger.commit(intent(), context())).payment.sequence);
      expect([...sequential].sort((a, b) => a - b)).toEqual(sequential);
      const concurrent = await Promise.all(
        Array.from({ length: 20 }, () => ledger.commit(intent(), context())),
      );
      const all = [...sequential, ...concurrent.map((o) => o.payment.sequence)];
      expect(new Set(all).size).toBe(all.length);
      expect(Math.min(...concurrent.map((o) => o.payment.sequence))).toBeGreaterThan(sequential.at(-1)!);
    });

    it('returns undefined for an unknown id', async () => {
      const ledger = await fresh();
      expect(await ledger.get(`missing-${randomUUID()}`, 'alice')).toBeUndefined();
      expect(await ledger.findById(`missing-${randomUUID()}`)).toEqual([]);
    });

    it('commits the same id under another payer as a different payment, and finds both by id', async () => {
      const ledger = await fresh();
      const id = `shared-${randomUUID()}`;
      const a = await ledger.commit(intent({ id, payer: 'tenant-a', payee: 'shop' }), context());
      // Same id, other payer, other content: neither a replay nor a conflict.
      const b = await ledger.commit(
        intent({ id, payer: 'tenant-b', payee: 'shop', amount: 7, currency: 'USD' }),
        context(),
      );
      expect(a.kind).toBe('committed');
      expect(b.kind).toBe('committed');
      expect(b.payment.sequence).toBeGreaterThan(a.payment.sequence);
      expect(await ledger.get(id, 'tenant-a')).toEqual(a.payment);
      expect(await ledger.get(id, 'tenant-b')).toEqual(b.payment);
      expect(await ledger.get(id, 'shop')).toBeUndefined();
      expect(await ledger.findById(id)).toEqual([a.payment, b.payment]);
      // Both are in the payee's history, and each in its own payer's only.
      expect((await ledger.history({ account: 'shop', limit: 10 })).payments).toEqual([a.payment, b.payment]);
      expect((await ledger.history({ account: 'tenant-b', limit: 10 })).payments).toEqual([b.payment]);
    });

    it('decides replay and conflict within one payer only', async () => {
      const ledger = await fresh();
      const id = `scoped-${randomUUID()}`;
      const a = intent({ id, payer: 'tenant-a' });
      const b = intent({ id, payer: 'tenant-b', amount: a.amount + 1 });
      const first = await ledger.commit(a, context());
      const other = await ledger.commit(b, context());
      // Each payer replays its own payment and conflicts only with its own content.
      expect(await ledger.commit(a, context('h2'))).toEqual({ kind: 'replayed', payment: first.payment });
      expect(await ledger.commit(b, context('h2'))).toEqual({ kind: 'replayed', payment: other.payment });
      await expect(ledger.commit({ ...a, amount: b.amount }, context())).rejects.toBeInstanceOf(
        IdempotencyConflictError,
      );
      await expect(ledger.commit({ ...b, amount: a.amount }, context())).rejects.toBeInstanceOf(
        IdempotencyConflictError,
      );
      expect(await ledger.findById(id)).toEqual([first.payment, other.payment]);
    });

    it(`finds at most ${MAX_PAYMENTS_PER_ID} payments of one id, the first committed`, async () => {
      const ledger = await fresh();
      const id = `popular-${randomUUID()}`;
      // Concurrent, so that on etcd many share one transaction and the bound cuts inside it.
      const outcomes = await Promise.all(
        Array.from({ length: MAX_PAYMENTS_PER_ID + 3 }, (_, i) =>
          ledger.commit(intent({ id, payer: `many-${i}` }), context()),
        ),
      );
      const all = outcomes.map((o) => o.payment).sort((a, b) => a.sequence - b.sequence);
      expect(await ledger.findById(id)).toEqual(all.slice(0, MAX_PAYMENTS_PER_ID));
      expect(await ledger.get(id, all.at(-1)!.payer)).toEqual(all.at(-1));
    });

    it(`finds the caller’s own payments of an id past ${MAX_PAYMENTS_PER_ID} other payers of it, as payer and payee (issue 17 §3)`, async () => {
      const ledger = await fresh();
      const id = `crowded-${randomUUID()}`;
      await Promise.all(
        Array.from({ length: MAX_PAYMENTS_PER_ID + 1 }, (_, i) =>
          ledger.commit(intent({ id, payer: `squat-${i}` }), context()),
        ),
      );
      const mine = (await ledger.commit(intent({ id, payer: 'victim', payee: 'shop' }), context())).payment;
      const received = (await ledger.commit(intent({ id, payer: 'buyer', payee: 'victim-2' }), context()))
        .payment;
      expect(await ledger.findById(id, { accounts: ['victim', 'victim-2'] })).toEqual([mine, received]);
      expect(await ledger.findById(id, { accounts: ['victim-2'] })).toEqual([received]);
      expect(await ledger.findById(id, { accounts: ['nobody'] })).toEqual([]);
    });

    it(`cuts a history page at about ${HISTORY_PAGE_BYTES} bytes whatever its limit, and continues by cursor`, async () => {
      const ledger = await fresh();
      const account = `wide-${randomUUID()}`;
      // 16 KB payments, under MAX_PAYMENT_BYTES: about 64 fit in a page.
      const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(380)]));
      const all = [];
      for (let i = 0; i < 80; i++)
        all.push((await ledger.commit(intent({ payer: account, metadata }), context())).payment);
      const first = await ledger.history({ account, limit: 1000 });
      const bytes = first.payments.reduce((n, p) => n + Buffer.byteLength(serializePayment(p)), 0);
      expect(first.payments.length).toBeGreaterThan(1);
      expect(first.payments.length).toBeLessThan(80);
      expect(bytes).toBeLessThanOrEqual(HISTORY_PAGE_BYTES + MAX_PAYMENT_BYTES + STORED_OVERHEAD_BYTES);
      expect(first.continueAfter).toBe(first.payments.at(-1)!.sequence);
      const rest = await ledger.history({ account, limit: 1000, afterSequence: first.continueAfter });
      expect([...first.payments, ...rest.payments]).toEqual(all);
      expect(rest.continueAfter).toBeUndefined();
    });

    it(`refuses a payment over ${MAX_PAYMENT_BYTES} bytes encoded, and stores nothing`, async () => {
      const ledger = await fresh();
      // Six values of 500 U+0001, 6 bytes each once encoded: about 18 KB, within every field limit.
      const metadata = Object.fromEntries(
        Array.from({ length: 6 }, (_, i) => [`k${i}`, '\u0001'.repeat(500)]),
      );
      const p = intent({ metadata });
      await expect(ledger.commit(p, context())).rejects.toBeInstanceOf(InvalidRequestError);
      expect(await ledger.get(p.id, p.payer)).toBeUndefined();
    });

    it('keeps apart the index entries of an account that paid (A, x) and received (C, x)', async () => {
      const ledger = await fresh();
      const id = `both-sides-${randomUUID()}`;
      const paid = await ledger.commit(intent({ id, payer: 'acct-a', payee: 'acct-b' }), context());
      const received = await ledger.commit(intent({ id, payer: 'acct-c', payee: 'acct-a' }), context());
      const page = await ledger.history({ account: 'acct-a', limit: 10 });
      expect(page.payments).toEqual([paid.payment, received.payment]);
      expect((await ledger.history({ account: 'acct-b', limit: 10 })).payments).toEqual([paid.payment]);
      expect((await ledger.history({ account: 'acct-c', limit: 10 })).payments).toEqual([received.payment]);
    });

    it('lists an account as payer and payee, in commit order, and no one else', async () => {
      const ledger = await fresh();
      const a = await ledger.commit(intent({ payer: 'shop-1', payee: 'carol' }), context());
      const b = await ledger.commit(intent({ payer: 'dave', payee: 'shop-1' }), context());
      await ledger.commit(intent({ payer: 'shop-10', payee: 'carol' }), context());
      const page = await ledger.history({ account: 'shop-1', limit: 100 });
      expect(page.payments).toEqual([a.payment, b.payment]);
      expect(page.continueAfter).toBeUndefined();
      expect((await ledger.history({ account: 'nobody', limit: 10 })).payments).toEqual([]);
    });

    it('pages through history with a cursor, each payment once', async () => {
      const ledger = await fresh();
      const committed = [];
      for (let i = 0; i < 7; i++)
        committed.push((await ledger.commit(intent({ payer: 'pager' }), context())).payment);
      const seen = [];
      let after: number | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await ledger.history({ account: 'pager', limit: 3, afterSequence: after });
        seen.push(...page.payments);
        after = page.continueAfter;
        if (after === undefined) break;
      }
      expect(seen).toEqual(committed);
    });

    it('filters history by committedAt, from inclusive and to exclusive', async () => {
      const ledger = await fresh();
      const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'];
      const stored = [];
      for (const t of times)
        stored.push((await ledger.commit(intent({ payer: 'timed' }), context('h', t))).payment);
      const page = await ledger.history({ account: 'timed', limit: 10, from: times[1], to: times[2] });
      expect(page.payments).toEqual([stored[1]]);
    });
  });
}
