/**
 * The payment archive contract: one suite, run against every PaymentArchive (the PostgreSQL one
 * in test/cluster/pg-archive.test.ts, the in-memory one in test/unit/payment-archive-memory.test.ts).
 *
 * Accounts, ids and sequences are unique per test, so a factory may hand every test the same
 * store (one database per test file keeps the PostgreSQL run fast).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArchiveConflictError } from '../../ledger/archive/archive-errors';
import type { PaymentArchive } from '../../ledger/archive/payment-archive';
import { ArchiveUnavailableError } from '../../ledger/errors';
import { SLOTS_PER_REVISION } from '../../ledger/etcd/sequence';
import { HISTORY_PAGE_BYTES, MAX_PAYMENTS_PER_ID } from '../../ledger/ledger';
import { type StoredPayment, serializePayment } from '../../ledger/payment';

export type ArchiveFactory = () => Promise<PaymentArchive>;

// Sequences as etcd makes them (revision × 1000 + position), far apart between tests and runs.
let nextRevision = 1 + Math.floor(Math.random() * 1e9);
const revision = () => {
  nextRevision += 1000;
  return nextRevision;
};

/** A committed payment as the ledger would hand it to the archiver. */
export function stored(overrides: Partial<StoredPayment> = {}): StoredPayment {
  return {
    id: `p-${randomUUID()}`,
    payer: `payer-${randomUUID()}`,
    payee: `payee-${randomUUID()}`,
    amount: 1250,
    currency: 'EUR',
    committedAt: '2026-01-02T03:04:05.678Z',
    sequence: revision() * SLOTS_PER_REVISION,
    host: 'h1',
    hlc: '001767323045678.00001',
    ...overrides,
  };
}

export function paymentArchiveContract(name: string, fresh: ArchiveFactory): void {
  describe(`payment archive contract: ${name}`, () => {
    it('keeps a payment exactly: same fields, same JSON text, byte for byte', async () => {
      const archive = await fresh();
      const p = stored({
        description: 'Grüße, "quoted" \\ and 💶',
        metadata: { z: 'last', a: 'first', order: '42' },
        amount: 1_000_000_000_000_000,
        sequence: 9_007_199_254_740_000, // near 2^53: pg hands int8 back as a string
      });
      expect(await archive.insertMany([p])).toEqual({ inserted: 1, alreadyArchived: 0 });
      const back = await archive.get(p.id, p.payer);
      expect(back).toEqual(p);
      expect(serializePayment(back!)).toBe(serializePayment(p));
      expect(Object.keys(back!.metadata!)).toEqual(['z', 'a', 'order']); // not reordered, as jsonb would
      expect(await archive.findById(p.id)).toEqual([p]);
    });

    it('keeps a payment without an HLC without one', async () => {
      const archive = await fresh();
      const { hlc: _, ...p } = stored();
      await archive.insertMany([p]);
      const back = await archive.get(p.id, p.payer);
      expect(back).toEqual(p);
      expect(back && 'hlc' in back).toBe(false);
    });

    it('is idempotent on (payer, id): a repeated batch stores nothing twice and changes nothing', async () => {
      const archive = await fresh();
      const batch = [stored(), stored(), stored()];
      expect(await archive.insertMany(batch)).toEqual({ inserted: 3, alreadyArchived: 0 });
      const extra = stored();
      expect(await archive.insertMany([...batch, extra])).toEqual({ inserted: 1, alreadyArchived: 3 });
      expect(await archive.insertMany([extra, extra])).toEqual({ inserted: 0, alreadyArchived: 1 });
      for (const p of [...batch, extra]) expect(await archive.get(p.id, p.payer)).toEqual(p);
    });

    it('refuses a (payer, id) archived with other content, and stores nothing of that batch', async () => {
      const archive = await fresh();
      const p = stored();
      await archive.insertMany([p]);
      const innocent = stored();
      for (const other of [
        { ...p, amount: p.amount + 1 },
        { ...p, sequence: p.sequence + 1 },
        { ...p, host: 'h2' },
      ]) {
        await expect(archive.insertMany([innocent, other])).rejects.toBeInstanceOf(ArchiveConflictError);
      }
      expect(await archive.get(p.id, p.payer)).toEqual(p);
      expect(await archive.get(innocent.id, innocent.payer)).toBeUndefined();
    });

    it('refuses a second payment with a sequence already archived', async () => {
      const archive = await fresh();
      const p = stored();
      await archive.insertMany([p]);
      const clash = stored({ sequence: p.sequence });
      await expect(archive.insertMany([clash])).rejects.toBeInstanceOf(ArchiveConflictError);
      expect(await archive.get(clash.id, clash.payer)).toBeUndefined();
    });

    it('returns undefined and [] for what it does not hold', async () => {
      const archive = await fresh();
      const p = stored();
      await archive.insertMany([p]);
      expect(await archive.get(p.id, p.payee)).toBeUndefined();
      expect(await archive.get(`missing-${randomUUID()}`, p.payer)).toBeUndefined();
      expect(await archive.findById(`missing-${randomUUID()}`)).toEqual([]);
    });

    it(`finds an id under every payer, ascending sequence, at most ${MAX_PAYMENTS_PER_ID}`, async () => {
      const archive = await fresh();
      const id = `shared-${randomUUID()}`;
      const all = Array.from({ length: MAX_PAYMENTS_PER_ID + 3 }, () => stored({ id }));
      await archive.insertMany([...all].reverse());
      expect(await archive.findById(id)).toEqual(all.slice(0, MAX_PAYMENTS_PER_ID));
      expect(await archive.get(id, all.at(-1)!.payer)).toEqual(all.at(-1));
    });

    it('finds a caller’s own payment with an id past MAX_PAYMENTS_PER_ID other payers of it (issue 17 §3)', async () => {
      const archive = await fresh();
      const id = `crowded-${randomUUID()}`;
      const others = Array.from({ length: MAX_PAYMENTS_PER_ID + 1 }, () => stored({ id }));
      const mine = stored({ id });
      const received = stored({ id, payee: mine.payer });
      await archive.insertMany([...others, mine, received]);
      expect(await archive.findById(id, { accounts: [mine.payer] })).toEqual([mine, received]);
      expect(await archive.findById(id, { accounts: [`nobody-${randomUUID()}`] })).toEqual([]);
    });

    it(`cuts a history page at about ${HISTORY_PAGE_BYTES} bytes whatever its limit, and continues by cursor`, async () => {
      const archive = await fresh();
      const account = `wide-${randomUUID()}`;
      // 16 KB payments: about 64 fit in a page.
      const metadata = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(380)]));
      const all = Array.from({ length: 90 }, () => stored({ payer: account, metadata }));
      await archive.insertMany(all);
      const first = await archive.history({ account, limit: 1000 });
      const bytes = first.payments.reduce((n, p) => n + Buffer.byteLength(serializePayment(p)), 0);
      expect(first.payments.length).toBeGreaterThan(1);
      expect(first.payments.length).toBeLessThan(90);
      expect(bytes).toBeLessThanOrEqual(HISTORY_PAGE_BYTES + 17 * 1024);
      expect(first.continueAfter).toBe(first.payments.at(-1)!.sequence);
      const rest = await archive.history({ account, limit: 1000, afterSequence: first.continueAfter });
      expect([...first.payments, ...rest.payments]).toEqual(all);
      expect(rest.continueAfter).toBeUndefined();
    });

    it('lists an account as payer and payee in sequence order, whatever the insert order', async () => {
      const archive = await fresh();
      const account = `acct-${randomUUID()}`;
      const paid = stored({ payer: account });
      const received = stored({ payee: account });
      const paidAgain = stored({ payer: account });
      const unrelated = stored();
      await archive.insertMany([paidAgain, unrelated]);
      await archive.insertMany([received, paid]);
      const page = await archive.history({ account, limit: 10 });
      expect(page).toEqual({ payments: [paid, received, paidAgain], continueAfter: undefined });
      expect((await archive.history({ account: `nobody-${randomUUID()}`, limit: 10 })).payments).toEqual([]);
    });

    it('pages through history with a cursor, each payment once', async () => {
      const archive = await fresh();
      const account = `pager-${randomUUID()}`;
      const all = Array.from({ length: 7 }, (_, i) =>
        i % 2 ? stored({ payee: account }) : stored({ payer: account }),
      );
      await archive.insertMany(all);
      const seen: StoredPayment[] = [];
      let after: number | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await archive.history({ account, limit: 3, afterSequence: after });
        expect(page.payments.length).toBeLessThanOrEqual(3);
        seen.push(...page.payments);
        after = page.continueAfter;
        if (after === undefined) break;
      }
      expect(seen).toEqual(all);
      expect((await archive.history({ account, limit: 7 })).continueAfter).toBeUndefined();
      expect((await archive.history({ account, limit: 6 })).continueAfter).toBe(all[5]!.sequence);
    });

    it('filters history by committedAt, from inclusive and to exclusive', async () => {
      const archive = await fresh();
      const account = `timed-${randomUUID()}`;
      const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'];
      const all = times.map((committedAt) => stored({ payer: account, committedAt }));
      await archive.insertMany(all);
      const page = await archive.history({ account, limit: 10, from: times[1], to: times[2] });
      expect(page.payments).toEqual([all[1]]);
      expect((await archive.history({ account, limit: 10, from: times[1] })).payments).toEqual(all.slice(1));
      expect((await archive.history({ account, limit: 10, to: times[1] })).payments).toEqual([all[0]]);
    });

    it('answers an aborted call with the retryable ArchiveUnavailableError', async () => {
      const archive = await fresh();
      const signal = AbortSignal.abort(new Error('caller gave up'));
      await expect(archive.get('x', 'y', { signal })).rejects.toBeInstanceOf(ArchiveUnavailableError);
      await expect(archive.insertMany([stored()], { signal })).rejects.toBeInstanceOf(
        ArchiveUnavailableError,
      );
      await expect(archive.ping()).resolves.toBeUndefined();
    });
  });
}
