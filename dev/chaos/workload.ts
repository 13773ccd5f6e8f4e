/**
 * The chaos traffic: `clients` concurrent loops, each sending payments through its own
 * PaymentsClient (client/payments-client.ts: the same failover every application uses) and recording every operation in the shared history. Besides fresh payments the
 * mix holds deliberate retries of earlier payments (same payer, id and content), conflicting
 * resends (same payer and id, other amount), an earlier id reused by another payer (a new payment:
 * identity is payer and id), ids shared between clients at the same moment, some with conflicting
 * content, and impatient sends that give up after one short attempt.
 *
 * Alongside them, `readers` loops read while the nemesis acts, through PaymentsClients of their
 * own: a payment by payer and id (mostly one acknowledged moments ago, else any payment sent), or
 * an account's history, following `nextCursor` for a bounded number of pages, from the first page
 * or, half the time, from the cursor of the last page an earlier read reached (so that histories
 * longer than the bound are read at their recent end too). They use their own
 * random numbers, so the writes a seed produces are the same with or without them.
 */
import { type PaymentOutcome, PaymentsClient } from '../../client/payments-client';
import { type PaymentIntent, paymentKey } from '../../ledger/payment';
import type { CompletionEvent, HistoryEvent, ReadOkEvent, ReadQuery } from './history';

export interface WorkloadOptions {
  hosts: string[];
  /** API key the clients send. */
  apiKey: string;
  clients: number;
  /** The loops stop sending once this signal aborts. */
  signal: AbortSignal;
  /** The history's clock: ms since the run began. */
  now: () => number;
  /** Pause between one client's operations, in ms. Default 20. */
  thinkMs?: number;
  /** Seeded random numbers in [0, 1). */
  random: () => number;
  /** Accounts payments move between. Default 8. */
  accounts?: number;
  /** Upper bound on operations per client, whatever the duration. Default 1_000_000. */
  maxOpsPerClient?: number;
  /** Concurrent read loops. Default 2. */
  readers?: number;
  /** Seeded random numbers in [0, 1) for the readers' choices. Default seeded with 1. */
  readRandom?: () => number;
  /** Page size of a history read. Default 200. */
  historyPageSize?: number;
  /** Most pages one history read follows; past them it is recorded as incomplete. Default 5. */
  historyPages?: number;
}

export class Workload {
  readonly history: HistoryEvent[] = [];
  private op = 0;
  /** Every payment sent, and those acknowledged, in order: what the readers look up. */
  private readonly sent: PaymentIntent[] = [];
  private readonly acked: PaymentIntent[] = [];
  /** Per account, the last cursor a history read reached, and the sequence it continues after. */
  private readonly tails = new Map<string, { cursor: string; after: number }>();

  constructor(private readonly options: WorkloadOptions) {}

  accounts(): string[] {
    return Array.from({ length: this.options.accounts ?? 8 }, (_, i) => `acct-${i}`);
  }

  /** Runs every client and reader loop until the signal aborts; resolves once all are done. */
  async run(): Promise<void> {
    const { clients, readers = 2 } = this.options;
    await Promise.all([
      ...Array.from({ length: clients }, (_, i) => this.client(i)),
      ...Array.from({ length: readers }, (_, i) => this.reader(clients + i)),
    ]);
  }

  private async client(index: number): Promise<void> {
    const { hosts, apiKey, signal, random, thinkMs = 20, maxOpsPerClient = 1_000_000 } = this.options;
    // Up to 8 attempts within 12 s, spread from a different first host per client.
    const client = new PaymentsClient({
      hosts,
      apiKey,
      startAt: index,
      attemptTimeoutMs: 3000,
      deadlineMs: 12_000,
      maxAttempts: 8,
    });
    const mine: PaymentIntent[] = [];
    const accounts = this.accounts();
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
    for (let n = 0; n < maxOpsPerClient && !signal.aborted; n++) {
      const roll = random();
      let intent: PaymentIntent;
      if (roll < 0.12 && mine.length > 0) {
        intent = pick(mine); // a deliberate retry of an earlier payment
      } else if (roll < 0.18 && mine.length > 0) {
        // same payer and id, other content: a conflict (the payer is kept, or it would be a new payment)
        intent = { ...pick(mine), amount: 1 + Math.floor(random() * 10_000) };
      } else if (roll < 0.22 && mine.length > 0) {
        // An earlier id under another payer: a payment of its own, which must commit, not conflict.
        const earlier = pick(mine);
        const others = accounts.filter((a) => a !== earlier.payer && a !== earlier.payee);
        intent = { ...earlier, payer: pick(others) };
        mine.push(intent);
      } else if (roll < 0.3) {
        // Several clients race on the same id within a 2 s window; odd and even clients disagree.
        const window = Math.floor(this.options.now() / 2000);
        intent = {
          id: `shared-${window}-${Math.floor(random() * 3)}`,
          payer: 'acct-shared-a',
          payee: 'acct-shared-b',
          amount: 100 + (index % 2),
          currency: 'EUR',
        };
      } else {
        const payer = pick(accounts);
        let payee = pick(accounts);
        if (payee === payer) payee = accounts[(accounts.indexOf(payer) + 1) % accounts.length]!;
        intent = {
          id: `c${index}-${n}`,
          payer,
          payee,
          amount: 1 + Math.floor(random() * 100_000),
          currency: 'EUR',
        };
        mine.push(intent);
      }
      await this.send(index, client, intent);
      if (thinkMs > 0) await new Promise((r) => setTimeout(r, thinkMs));
    }
  }

  private async send(clientIndex: number, client: PaymentsClient, intent: PaymentIntent): Promise<void> {
    const op = ++this.op;
    const { now } = this.options;
    this.history.push({ type: 'invoke', op, client: clientIndex, time: now(), intent });
    this.sent.push(intent);
    // One operation in ten is impatient: a single short attempt, which under faults often ends
    // indeterminate, so the checker's rules for unknown outcomes are exercised, not just stated.
    const impatient = this.options.random() < 0.1;
    const outcome = await client.pay(intent, impatient ? { maxAttempts: 1, attemptTimeoutMs: 800 } : {});
    this.history.push(completion(op, now(), outcome));
    if (outcome.kind === 'committed' || outcome.kind === 'replayed') this.acked.push(intent);
  }

  private async reader(clientIndex: number): Promise<void> {
    const { hosts, apiKey, signal, thinkMs = 20, readRandom: random = seededRandom(1) } = this.options;
    const client = new PaymentsClient({
      hosts,
      apiKey,
      startAt: clientIndex,
      attemptTimeoutMs: 3000,
      deadlineMs: 12_000,
      maxAttempts: 8,
    });
    const accounts = [...this.accounts(), 'acct-shared-a'];
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
    while (!signal.aborted) {
      const roll = random();
      // Recent acks are where a stale read would show; any sent payment covers unknowns and conflicts.
      const pool = roll < 0.4 ? this.acked.slice(-50) : this.sent;
      if (roll >= 0.7)
        await this.read(clientIndex, client, { kind: 'history', account: pick(accounts) }, random() < 0.5);
      else if (pool.length > 0) {
        const { payer, id } = pick(pool);
        await this.read(clientIndex, client, { kind: 'by-id', payer, id });
      }
      await new Promise((r) => setTimeout(r, Math.max(thinkMs, 1)));
    }
  }

  /** `fromTail`: a history read starts from the last cursor an earlier read of the account reached. */
  private async read(
    clientIndex: number,
    client: PaymentsClient,
    query: ReadQuery,
    fromTail = false,
  ): Promise<void> {
    const op = ++this.op;
    const { now, signal, historyPageSize = 200, historyPages = 5 } = this.options;
    this.history.push({ type: 'read-invoke', op, client: clientIndex, time: now(), query });
    const ok = (result: ReadOkEvent['result'], host?: string) => {
      this.history.push({ type: 'read-ok', op, time: now(), result, host });
    };
    const fail = (error: string) => {
      this.history.push({ type: 'read-fail', op, time: now(), error });
    };
    if (query.kind === 'by-id') {
      const outcome = await client.get(query.id, { payer: query.payer });
      if (outcome.kind === 'found') ok({ kind: 'found', payment: outcome.payment }, outcome.host);
      else if (outcome.kind === 'not-found') ok({ kind: 'not-found' });
      else fail(outcome.kind === 'failed' ? outcome.reason : `${outcome.kind}: ${outcome.error.message}`);
      return;
    }
    // A cursor continues after the last payment of the page it came with (ledger/ledger.ts HistoryPage).
    const start = fromTail ? this.tails.get(query.account) : undefined;
    const listed: [string, number][] = [];
    let cursor = start?.cursor;
    let reached = start;
    const done = (complete: boolean, host: string) => {
      if (reached) this.tails.set(query.account, reached);
      ok({ kind: 'history', listed, complete, after: start?.after }, host);
    };
    for (let page = 0; page < historyPages; page++) {
      // A read still paging when traffic stops is abandoned: it then checks nothing.
      if (signal.aborted) return fail('traffic stopped');
      const outcome = await client.history(query.account, { limit: historyPageSize, cursor });
      if (outcome.kind !== 'page')
        return fail(outcome.kind === 'failed' ? outcome.reason : `rejected: ${outcome.error.message}`);
      for (const p of outcome.payments) listed.push([paymentKey(p), p.sequence]);
      if (!outcome.nextCursor) return done(true, outcome.host);
      const last = outcome.payments.at(-1);
      if (last) reached = { cursor: outcome.nextCursor, after: last.sequence };
      cursor = outcome.nextCursor;
      if (page === historyPages - 1) done(false, outcome.host);
    }
  }
}

/**
 * What the client may conclude from an outcome: ok (acknowledged), fail (definitely refused, or
 * never delivered to any host), or unknown (an attempt may have been applied: indeterminate).
 */
export function completion(op: number, time: number, outcome: PaymentOutcome): CompletionEvent {
  switch (outcome.kind) {
    case 'committed':
    case 'replayed':
      return {
        type: 'ok',
        op,
        time,
        status: outcome.kind === 'committed' ? 201 : 200,
        payment: outcome.payment,
        host: outcome.host,
      };
    case 'conflict':
    case 'rejected':
      return { type: 'fail', op, time, status: outcome.status, error: JSON.stringify(outcome.error) };
    case 'failed':
      return outcome.indeterminate
        ? { type: 'unknown', op, time, error: outcome.reason }
        : { type: 'fail', op, time, status: 0, error: outcome.reason };
  }
}

/** A small seeded generator (mulberry32), so a run's traffic can be repeated from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
