/**
 * PaymentLedger.history's semantics over a plain list of payments (ledger/ledger.ts): the
 * in-memory ledger and the in-memory archive answer with it, so they cannot differ.
 */
import type { HistoryPage, HistoryQuery } from './ledger';
import type { StoredPayment } from './payment';

export function historyPage(
  all: Iterable<StoredPayment>,
  { account, from, to, limit, afterSequence = 0 }: HistoryQuery,
): HistoryPage {
  const matching = [...all]
    .filter((p) => p.payer === account || p.payee === account)
    .filter((p) => p.sequence > afterSequence)
    .filter((p) => (from === undefined || p.committedAt >= from) && (to === undefined || p.committedAt < to))
    .sort((a, b) => a.sequence - b.sequence);
  const payments = matching.slice(0, limit);
  return { payments, continueAfter: matching.length > limit ? payments.at(-1)?.sequence : undefined };
}
