/**
 * PaymentLedger.history's semantics over a plain list of payments (ledger/ledger.ts): the
 * in-memory ledger and the in-memory archive answer with it, so they cannot differ.
 */
import { HISTORY_PAGE_BYTES, type HistoryPage, type HistoryQuery } from './ledger';
import { type StoredPayment, serializePayment } from './payment';

export function historyPage(
  all: Iterable<StoredPayment>,
  { account, from, to, limit, afterSequence = 0 }: HistoryQuery,
): HistoryPage {
  const matching = [...all]
    .filter((p) => p.payer === account || p.payee === account)
    .filter((p) => p.sequence > afterSequence)
    .filter((p) => (from === undefined || p.committedAt >= from) && (to === undefined || p.committedAt < to))
    .sort((a, b) => a.sequence - b.sequence);
  const payments = cutByBytes(matching.slice(0, limit));
  return {
    payments,
    continueAfter: matching.length > payments.length ? payments.at(-1)?.sequence : undefined,
  };
}

/** The longest prefix within HISTORY_PAGE_BYTES, serialized; never empty when `payments` is not. */
export function cutByBytes(payments: StoredPayment[], maxBytes = HISTORY_PAGE_BYTES): StoredPayment[] {
  let bytes = 0;
  for (const [i, p] of payments.entries()) {
    bytes += Buffer.byteLength(serializePayment(p));
    if (i > 0 && bytes > maxBytes) return payments.slice(0, i);
  }
  return payments;
}
