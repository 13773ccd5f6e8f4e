/**
 * The soak's final checks (issue 14, §9), over HTTP on every host:
 *  - every acknowledged payment reads back by id, with the acknowledged body, on every host;
 *  - it appears exactly once in its payer's and its payee's history, which is in sequence order;
 *  - a retry of an archived payment (one no longer in etcd) is 200 replayed, byte-identical.
 * Each returns counts and the first few violations; the caller decides what fails the run.
 */
import type { Etcd3 } from 'etcd3';
import { keyLayout } from '../../ledger/etcd/key-layout';
import type { StoredPayment } from '../../ledger/payment';
import { type JsonResponse, postPayment, request } from '../cluster/http';
import type { AckedPayment } from './soak-load';

/** Runs `fn` over `items`, `concurrency` at a time, reporting progress every `every` items. */
export async function inPool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
  progress?: (done: number) => void,
  every = 10_000,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      await fn(items[next++]!);
      if (++done % every === 0) progress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * One request as a patient client makes it: a 503 marked retryable (a host busy past its request
 * deadline, PostgreSQL slow) or no answer is tried again, up to 6 times with a growing pause.
 * Anything else is the answer.
 */
async function patiently(attempt: () => Promise<JsonResponse>): Promise<JsonResponse> {
  let last: JsonResponse | undefined;
  for (let i = 0; i < 6; i++) {
    try {
      last = await attempt();
      const retryable = (last.body as { error?: { retryable?: boolean } } | undefined)?.error?.retryable;
      if (last.status !== 503 || !retryable) return last;
    } catch (error) {
      // No answer six times: the host is down. A violation, not a crash of the checks.
      if (i === 5)
        return {
          status: 0,
          headers: new Headers(),
          text: `no answer: ${String((error as Error).cause ?? error)}`,
          body: undefined,
        };
    }
    await new Promise((r) => setTimeout(r, 250 * (i + 1)));
  }
  return last!;
}

export interface CheckResult {
  checked: number;
  violations: string[];
}

const note = (violations: string[], line: string) => {
  if (violations.length < 20) violations.push(line);
  else if (violations.length === 20) violations.push('… more');
};

export async function readBackEverywhere(
  hosts: string[],
  acked: AckedPayment[],
  progress?: (done: number) => void,
): Promise<CheckResult & { violationCount: number }> {
  const violations: string[] = [];
  let violationCount = 0;
  const reads = acked.flatMap((a) => hosts.map((host) => ({ a, host })));
  await inPool(
    reads,
    24,
    async ({ a, host }) => {
      const { id, payer } = a.payment;
      const r = await patiently(() =>
        request(`${host}/payments/${encodeURIComponent(id)}?payer=${payer}`, {}, 30_000),
      );
      if (r.status !== 200 || r.text !== a.text) {
        violationCount++;
        note(violations, `${host} GET ${payer}/${id}: ${r.status} ${r.text.slice(0, 120)}`);
      }
    },
    progress,
    30_000,
  );
  return { checked: reads.length, violations, violationCount };
}

export interface HistoryResult extends CheckResult {
  /** History entries read, all accounts. */
  entries: number;
  /** Ids found in history that were never acknowledged (a request whose outcome was unknown). */
  unacknowledged: number;
}

/** Pages through every account's history (each account on one host, rotating). */
export async function historiesExactlyOnce(
  hosts: string[],
  accounts: string[],
  acked: AckedPayment[],
): Promise<HistoryResult> {
  const violations: string[] = [];
  const key = (p: { payer: string; id: string }) => `${p.payer}\u0000${p.id}`;
  const ackedByKey = new Map(acked.map((a) => [key(a.payment), a]));
  const seen = new Map<string, number>(); // appearances: payer's and payee's history, 2 each
  let entries = 0;
  const unacked = new Set<string>();
  await inPool(
    accounts.map((account, i) => ({ account, host: hosts[i % hosts.length]! })),
    4,
    async ({ account, host }) => {
      let cursor: string | undefined;
      let last = -1;
      const here = new Set<string>();
      for (let page = 0; page < 10_000; page++) {
        const query = `account=${account}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const r = (await patiently(() => request(`${host}/payments?${query}`, {}, 60_000))) as JsonResponse<{
          payments: StoredPayment[];
          nextCursor?: string | null;
        }>;
        if (r.status !== 200) {
          note(violations, `${host} history ${account}: ${r.status} ${r.text.slice(0, 120)}`);
          return;
        }
        for (const p of r.body.payments) {
          entries++;
          const k = key(p);
          if (p.sequence <= last) note(violations, `${account}: history out of order at ${p.id}`);
          last = p.sequence;
          if (here.has(k)) note(violations, `${account}: ${p.payer}/${p.id} twice in one history`);
          here.add(k);
          seen.set(k, (seen.get(k) ?? 0) + 1);
          const a = ackedByKey.get(k);
          if (!a) unacked.add(k);
          else if (JSON.stringify(p) !== a.text) note(violations, `${account}: ${p.id} differs in history`);
        }
        cursor = r.body.nextCursor ?? undefined;
        if (!cursor) break;
      }
    },
  );
  for (const a of acked) {
    const n = seen.get(key(a.payment)) ?? 0;
    if (n !== 2) note(violations, `${a.payment.payer}/${a.payment.id}: in ${n} histories, not 2`);
  }
  return { checked: acked.length, entries, unacknowledged: unacked.size, violations };
}

export interface RetryResult extends CheckResult {
  replayed: number;
  /** Sampled payments still in etcd, so not retried as archived ones. */
  stillHot: number;
}

/**
 * Re-sends archived payments (checked absent from etcd first) to a host each, round robin:
 * each must be 200 with Idempotent-Replayed and the acknowledged body, byte for byte.
 */
export async function retryArchived(
  hosts: string[],
  etcd: Etcd3,
  root: string,
  sample: AckedPayment[],
): Promise<RetryResult> {
  const violations: string[] = [];
  const keys = keyLayout(root);
  let replayed = 0;
  let stillHot = 0;
  let i = 0;
  await inPool(sample, 16, async (a) => {
    const { id, payer, payee, amount, currency } = a.payment;
    if ((await etcd.get(keys.payment(id, payer)).buffer()) !== null) {
      stillHot++;
      return;
    }
    const host = hosts[i++ % hosts.length]!;
    const r = await patiently(() => postPayment(host, { id, payer, payee, amount, currency }));
    if (r.status === 200 && r.headers.get('idempotent-replayed') === 'true' && r.text === a.text) replayed++;
    else note(violations, `${host} retry ${payer}/${id}: ${r.status} ${r.text.slice(0, 120)}`);
  });
  return { checked: sample.length, replayed, stillHot, violations };
}
