/**
 * Load through a PaymentsClient, shared by the failover tests and `npm run measure:failover`: send
 * N payments with bounded concurrency, recording when each finished; then check in the ledger that
 * each one is there exactly once. It lives in loadtest/ because dev/ may not import test/.
 */
import { performance } from 'node:perf_hooks';
import type { PaymentOutcome, PaymentsClient } from '../client/payments-client';
import type { PaymentLedger } from '../ledger/ledger';
import type { PaymentRequest } from '../ledger/payment';

export interface LoadResult {
  outcomes: PaymentOutcome[];
  /** performance.now() at which each payment finished, in order of completion. */
  finishedAt: number[];
  /** Duration of each payment, ms. */
  latencies: number[];
}

export const loadPayment = (prefix: string, i: number): PaymentRequest & { id: string } => ({
  id: `${prefix}-${i}`,
  payer: `${prefix}-payer`,
  payee: `${prefix}-payee-${i % 10}`,
  amount: i + 1,
  currency: 'EUR',
});

export async function sendPayments(
  client: PaymentsClient,
  {
    count,
    prefix,
    concurrency = 8,
    onProgress,
  }: { count: number; prefix: string; concurrency?: number; onProgress?: (done: number) => void },
): Promise<LoadResult> {
  const outcomes: PaymentOutcome[] = new Array(count);
  const finishedAt: number[] = [];
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const started = performance.now();
      outcomes[i] = await client.pay(loadPayment(prefix, i));
      const now = performance.now();
      finishedAt.push(now);
      latencies.push(now - started);
      onProgress?.(finishedAt.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { outcomes, finishedAt, latencies };
}

/** Longest time without any payment finishing, after `from` (performance.now()). */
export function longestGap(finishedAt: number[], from: number): number {
  let gap = 0;
  let previous = from;
  for (const t of [...finishedAt].sort((a, b) => a - b)) {
    if (t < from) continue;
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return gap;
}

/** Ids of every payment in the payer's history, in commit order (all pages). */
export async function payerHistoryIds(ledger: PaymentLedger, payer: string): Promise<string[]> {
  const ids: string[] = [];
  let afterSequence: number | undefined;
  for (;;) {
    const page = await ledger.history({ account: payer, limit: 1000, afterSequence });
    ids.push(...page.payments.map((p) => p.id));
    if (page.continueAfter === undefined) return ids;
    afterSequence = page.continueAfter;
  }
}
