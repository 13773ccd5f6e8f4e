/**
 * The bad-input sweep's verdict on one response: a rejected case must get a 4xx JSON error whose
 * code and status agree with the error table, and a valid case must get exactly its success body.
 * Shared by the in-process sweep and the one against real hosts, so both judge alike.
 */
import { expect } from 'vitest';
import { ERROR_STATUS_BY_CODE } from '../../functions/http-errors';
import { type PaymentIntent, toIntent } from '../../ledger/payment';
import { SEED_PAYMENTS, type SweepCase } from './bad-input';

export interface SweepResponse {
  status: number;
  contentType: string | null;
  text: string;
}

export function judge(c: SweepCase, r: SweepResponse): void {
  const context = `${c.label}: ${c.method} ${c.path.slice(0, 200)} -> ${r.status} ${r.text.slice(0, 300)}`;
  if (c.expected.kind === 'answered') {
    expect(r.status, context).toBeLessThan(500);
    // A HEAD answer has no body; any other error is the JSON error shape.
    if (r.status < 400 || c.method === 'HEAD') return;
  }
  expect(r.contentType, context).toMatch(/^application\/json/);
  const body = JSON.parse(r.text) as Record<string, unknown>;
  const { expected } = c;
  switch (expected.kind) {
    case 'answered':
    case 'rejected': {
      expect(r.status, context).toBeGreaterThanOrEqual(400);
      expect(r.status, context).toBeLessThan(500);
      if (expected.kind === 'rejected' && expected.status !== undefined)
        expect(r.status, context).toBe(expected.status);
      const error = body.error as { code: keyof typeof ERROR_STATUS_BY_CODE; message: unknown };
      expect(typeof error?.message, context).toBe('string');
      expect(ERROR_STATUS_BY_CODE[error.code], context).toBe(r.status);
      return;
    }
    case 'created':
      expect(r.status, context).toBe(201);
      expect(toIntent(body as unknown as PaymentIntent), context).toEqual(toIntent(expected.intent));
      return;
    case 'found':
      expect(r.status, context).toBe(200);
      expect(toIntent(body as unknown as PaymentIntent), context).toEqual(
        toIntent(SEED_PAYMENTS.find((p) => p.id === expected.id && p.payer === expected.payer)!),
      );
      return;
    case 'listed': {
      expect(r.status, context).toBe(200);
      const payments = body.payments as PaymentIntent[];
      for (const p of payments) expect([p.payer, p.payee], context).toContain(expected.account);
      return;
    }
    case 'healthy':
      expect(r.status, context).toBe(200);
      expect(body.status, context).toMatch(/^(ok|ready)$/);
      return;
  }
}
