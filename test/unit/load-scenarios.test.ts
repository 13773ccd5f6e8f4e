/**
 * The load scenarios build requests the API accepts: every generated payment passes the request
 * schema (payer ≠ payee, valid ids), a conflicting body differs only in content, and each request
 * mix adds up to 1, so the k6 scripts and the Node runner offer what the scenario says.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paymentRequestSchema, sameContent } from '../../ledger/payment';
import { accountsOf, paymentBody, pickKind, SCENARIOS } from '../../loadtest/scenarios';

describe('load scenarios', () => {
  it('generates valid, distinct-party payments for any payment number and account count', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), fc.integer({ min: 2, max: 5000 }), (n, accounts) => {
        const body = JSON.parse(paymentBody(`id-${n}`, n, accounts));
        expect(paymentRequestSchema.safeParse(body).success).toBe(true);
        const { payer, payee } = accountsOf(n, accounts);
        expect(payer).not.toBe(payee);
        const conflicting = JSON.parse(paymentBody(`id-${n}`, n, accounts, true));
        expect(sameContent(body, conflicting)).toBe(false);
        expect(conflicting.id).toBe(body.id);
        // The same payer too: under another payer the same id would be a new payment, not a conflict.
        expect(conflicting.payer).toBe(body.payer);
      }),
    );
  });

  it('has request mixes that add up to 1 and picks each kind in its share', () => {
    for (const scenario of Object.values(SCENARIOS)) {
      const sum = Object.values(scenario.mix).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 9);
      const counts = new Map<string, number>();
      for (let i = 0; i < 1000; i++) {
        const kind = pickKind(scenario.mix, i / 1000);
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
      for (const [kind, share] of Object.entries(scenario.mix)) {
        expect(Math.abs((counts.get(kind) ?? 0) / 1000 - share)).toBeLessThan(0.002);
      }
    }
  });
});
