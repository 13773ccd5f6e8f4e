/**
 * The soak's workload: new payments at a steady rate through PaymentsClient (the failover client
 * applications use, which retries what is retryable on another host), each between two of a fixed
 * set of accounts. It records every acknowledged payment (201 or 200 replayed: our own earlier
 * attempt) with the exact body text, and counts the rest. In flight is bounded: a slot that finds
 * the bound reached is skipped and counted, so the rate sent is honest about what the cluster took.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PaymentsClient } from '../../client/payments-client';
import type { StoredPayment } from '../../ledger/payment';

export interface AckedPayment {
  payment: StoredPayment;
  /** The body a replay must answer byte for byte: the stored payment's JSON text, as answered. */
  text: string;
  /** When the acknowledgement arrived, ms since the epoch. */
  ackedAt: number;
}

export interface LoadCounts {
  sent: number;
  committed: number;
  /** Acknowledged as replayed: an earlier attempt of the same request had committed it. */
  replayedOwn: number;
  /** Settled without an acknowledgement (deadline, non-retryable 5xx): outcome unknown. */
  failed: number;
  /** 409 or another 4xx: never expected for new ids. */
  refused: number;
  /** Slots skipped because `maxInFlight` requests were outstanding. */
  skipped: number;
}

export interface SoakLoadOptions {
  hosts: string[];
  apiKey: string;
  /** Payments per second offered. */
  rate: number;
  /** Accounts payments move between. Default 40. */
  accounts?: number;
  /** Requests outstanding at most. Default 256. */
  maxInFlight?: number;
  /** Prefix of every id, so ids of different runs never meet. */
  idPrefix: string;
}

export const accountName = (i: number) => `soak-acct-${i}`;

export class SoakLoad {
  readonly acked: AckedPayment[] = [];
  readonly counts: LoadCounts = { sent: 0, committed: 0, replayedOwn: 0, failed: 0, refused: 0, skipped: 0 };
  /** Outcomes that were not acknowledgements, a few of each kind, for the report. */
  readonly failures: string[] = [];
  private readonly client: PaymentsClient;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private readonly accounts: number;

  constructor(private readonly o: SoakLoadOptions) {
    this.accounts = o.accounts ?? 40;
    this.client = new PaymentsClient({
      hosts: o.hosts,
      apiKey: o.apiKey,
      attemptTimeoutMs: 5000,
      // Long enough to outlast a leader kill and a PostgreSQL outage for the rare id the
      // summary says may be archived (503 archive_unavailable, retryable).
      deadlineMs: 60_000,
    });
  }

  start(): void {
    // Owed by the clock, not by ticks: a late timer (a busy event loop) sends what it missed.
    const started = performance.now();
    let slots = 0;
    this.timer = setInterval(() => {
      const owed = Math.floor(((performance.now() - started) * this.o.rate) / 1000);
      for (; slots < owed; slots++) this.sendOne();
    }, 20);
  }

  /** Stops offering payments and waits for those in flight to settle. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  get outstanding(): number {
    return this.inFlight.size;
  }

  /** Sends one new payment now (also used for the latency accounts); resolves with it if acknowledged. */
  async pay(payer: string, payee: string): Promise<AckedPayment | undefined> {
    const id = `${this.o.idPrefix}-${this.next++}-${randomUUID().slice(0, 8)}`;
    const amount = 1 + (this.next % 100_000);
    this.counts.sent++;
    const outcome = await this.client.pay({ id, payer, payee, amount, currency: 'EUR' });
    if (outcome.kind === 'committed' || outcome.kind === 'replayed') {
      this.counts[outcome.kind === 'committed' ? 'committed' : 'replayedOwn']++;
      // JSON.parse keeps the answered key order and every value here is a string or a safe
      // integer, so this is the answered text.
      const acked = { payment: outcome.payment, text: JSON.stringify(outcome.payment), ackedAt: Date.now() };
      this.acked.push(acked);
      return acked;
    }
    const detail = outcome.kind === 'failed' ? outcome.reason : `${outcome.status} ${outcome.error.code}`;
    this.counts[outcome.kind === 'failed' ? 'failed' : 'refused']++;
    if (this.failures.length < 10) this.failures.push(`${id}: ${outcome.kind} ${detail}`);
    return undefined;
  }

  private sendOne(): void {
    if (this.inFlight.size >= (this.o.maxInFlight ?? 256)) {
      this.counts.skipped++;
      return;
    }
    const payer = Math.floor(Math.random() * this.accounts);
    const payee = (payer + 1 + Math.floor(Math.random() * (this.accounts - 1))) % this.accounts;
    const request = this.pay(accountName(payer), accountName(payee)).then(() => undefined);
    this.inFlight.add(request);
    void request.finally(() => this.inFlight.delete(request));
  }
}
