/**
 * A PaymentLedger decorator that gives every commit a hybrid logical timestamp and records the
 * payment events of the cluster event log (received, committed, replayed, rejected, queried).
 *
 * A stored payment is a message between hosts: whoever reads it (a replay on another host, a
 * query) applies HLC's receive rule to its `hlc` before recording the event, so the event log
 * orders "committed on A" before "replayed on B" before "queried on C" whatever the clock skew.
 */

import type { HybridClock } from '../coordination/clock/hlc';
import type { RecordEvent } from '../coordination/events/event-types';
import { PaymentError } from './errors';
import type { CommitContext, CommitOutcome, HistoryPage, HistoryQuery, PaymentLedger } from './ledger';
import type { PaymentIntent, StoredPayment } from './payment';

export interface TimestampedLedgerOptions {
  ledger: PaymentLedger;
  hlc: HybridClock;
  record: RecordEvent;
}

export class TimestampedLedger implements PaymentLedger {
  private readonly ledger: PaymentLedger;
  private readonly hlc: HybridClock;
  private readonly record: RecordEvent;

  constructor({ ledger, hlc, record }: TimestampedLedgerOptions) {
    this.ledger = ledger;
    this.hlc = hlc;
    this.record = record;
  }

  async commit(intent: PaymentIntent, context: CommitContext): Promise<CommitOutcome> {
    this.record('payment.received', { id: intent.id });
    let outcome: CommitOutcome;
    try {
      outcome = await this.ledger.commit(intent, { ...context, hlc: context.hlc ?? this.hlc.tick() });
    } catch (error) {
      const code = error instanceof PaymentError ? error.code : 'internal';
      this.record('payment.rejected', { id: intent.id, code });
      throw error;
    }
    const { payment } = outcome;
    this.record(
      outcome.kind === 'committed' ? 'payment.committed' : 'payment.replayed',
      {
        id: payment.id,
        sequence: payment.sequence,
        committedBy: payment.host,
        paymentHlc: payment.hlc ?? '',
      },
      this.hlc.receive(payment.hlc),
    );
    return outcome;
  }

  async get(id: string, payer: string): Promise<StoredPayment | undefined> {
    const payment = await this.ledger.get(id, payer);
    this.record(
      'payment.queried',
      { id, payer, found: payment !== undefined, paymentHlc: payment?.hlc ?? '' },
      this.hlc.receive(payment?.hlc),
    );
    return payment;
  }

  async findById(id: string): Promise<StoredPayment[]> {
    const payments = await this.ledger.findById(id);
    const latest = latestHlc(payments);
    this.record(
      'payment.queried',
      { id, found: payments.length > 0, count: payments.length, paymentHlc: latest ?? '' },
      this.hlc.receive(latest),
    );
    return payments;
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    const page = await this.ledger.history(query);
    const latest = latestHlc(page.payments);
    if (latest) this.hlc.receive(latest);
    return page;
  }

  ping(): Promise<void> {
    return this.ledger.ping();
  }

  close(): Promise<void> {
    return this.ledger.close();
  }
}

/** The largest HLC among payments: receiving it once covers them all (HLC's receive rule). */
function latestHlc(payments: StoredPayment[]): string | undefined {
  return payments.reduce<string | undefined>(
    (max, p) => (p.hlc && (!max || p.hlc > max) ? p.hlc : max),
    undefined,
  );
}
