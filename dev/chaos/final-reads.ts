/**
 * After the run has healed: reads every payment (payer and id) any client sent, and every
 * account's full history, from every host, for the history checker. Reads retry a host's 503 a bounded number
 * of times, because recovery may still be settling; any other failure aborts the check.
 */
import { type PaymentIntent, paymentKey, type StoredPayment } from '../../ledger/payment';
import type { HostReads } from './history';

export interface FinalReadOptions {
  hosts: { id: string; url: string }[];
  /** API key that may read every account (admin). */
  apiKey: string;
  /** Every payment to read back, by its identity. */
  payments: Pick<PaymentIntent, 'id' | 'payer'>[];
  accounts: string[];
  /** Requests in flight per host. Default 16. */
  concurrency?: number;
  /** Called now and then with the share done, 0..1. */
  progress?: (done: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson(url: string, apiKey: string): Promise<{ status: number; body: unknown }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status === 503 && attempt < 20) {
        await sleep(500);
        continue;
      }
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      if (attempt >= 20) throw new Error(`final read of ${url} failed: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function readEverything({
  hosts,
  apiKey,
  payments,
  accounts,
  concurrency = 16,
  progress,
}: FinalReadOptions): Promise<HostReads[]> {
  const total = hosts.length * (payments.length + accounts.length);
  let done = 0;
  let reported = 0;
  const tick = () => {
    done++;
    // Report each tenth once.
    if (Math.floor((10 * done) / total) > reported) {
      reported = Math.floor((10 * done) / total);
      progress?.(done / total);
    }
  };
  return Promise.all(
    hosts.map(async (host) => {
      const reads: HostReads = { host: host.id, byKey: {}, byAccount: {} };
      await pool(payments, concurrency, async (p) => {
        const url = `${host.url}/payments/${encodeURIComponent(p.id)}?payer=${encodeURIComponent(p.payer)}`;
        const { status, body } = await getJson(url, apiKey);
        if (status !== 200 && status !== 404)
          throw new Error(`GET ${paymentKey(p)} on ${host.id} answered ${status}`);
        reads.byKey[paymentKey(p)] = status === 200 ? (body as StoredPayment) : null;
        tick();
      });
      for (const account of accounts) {
        const list: StoredPayment[] = [];
        let cursor: string | null = null;
        for (let page = 0; page < 10_000; page++) {
          const query: string = `account=${encodeURIComponent(account)}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
          const { status, body } = await getJson(`${host.url}/payments?${query}`, apiKey);
          if (status !== 200) throw new Error(`history of ${account} on ${host.id} answered ${status}`);
          const result = body as { payments: StoredPayment[]; nextCursor: string | null };
          list.push(...result.payments);
          cursor = result.nextCursor;
          if (!cursor) break;
        }
        reads.byAccount[account] = list;
        tick();
      }
      return reads;
    }),
  );
}
