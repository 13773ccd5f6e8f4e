/**
 * The chaos clients' HTTP client: POST /payments with failover. On a connection error, a timeout,
 * or a 503 it retries the same payment (same id, same content) on the next host, which the
 * ledger's dedup makes safe; it gives up after `maxAttempts` or `deadlineMs`. The outcome says
 * what the client may conclude: ok (acked), fail (definitely refused, or never delivered), or
 * unknown (it may have been applied). Self-contained, so a shared PaymentsClient can replace it.
 */
import type { PaymentIntent, StoredPayment } from '../../ledger/payment';

export interface FailoverClientOptions {
  /** Base URLs of the function hosts. */
  hosts: string[];
  /** API key sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Timeout of one attempt, in ms. Default 3000. */
  attemptTimeoutMs?: number;
  /** Give up after this long in all, in ms. Default 12000. */
  deadlineMs?: number;
  /** Most attempts per payment. Default 8. */
  maxAttempts?: number;
  /** First host to try; later attempts go round the list. Default 0. */
  startAt?: number;
}

export type SendOutcome =
  | { type: 'ok'; status: 200 | 201; payment: StoredPayment; host: string }
  | { type: 'fail'; status: number; error: string }
  | { type: 'unknown'; error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when the request surely never reached a host (nothing could have been applied). */
function neverDelivered(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNREFUSED';
}

export class FailoverClient {
  private readonly hosts: string[];
  private readonly apiKey: string;
  private readonly attemptTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly maxAttempts: number;
  private next: number;

  constructor({
    hosts,
    apiKey,
    attemptTimeoutMs = 3000,
    deadlineMs = 12_000,
    maxAttempts = 8,
    startAt = 0,
  }: FailoverClientOptions) {
    if (hosts.length === 0) throw new Error('at least one host is required');
    this.hosts = hosts;
    this.apiKey = apiKey;
    this.attemptTimeoutMs = attemptTimeoutMs;
    this.deadlineMs = deadlineMs;
    this.maxAttempts = maxAttempts;
    this.next = startAt % hosts.length;
  }

  /** Sends one payment; `patience` overrides the client's attempt limits for this call only. */
  async create(
    intent: PaymentIntent,
    patience: { maxAttempts?: number; attemptTimeoutMs?: number } = {},
  ): Promise<SendOutcome> {
    const maxAttempts = patience.maxAttempts ?? this.maxAttempts;
    const attemptTimeoutMs = patience.attemptTimeoutMs ?? this.attemptTimeoutMs;
    const body = JSON.stringify(intent);
    const giveUpAt = performance.now() + this.deadlineMs;
    let possiblyApplied = false;
    let lastError = 'no attempt made';
    for (let attempt = 0; attempt < maxAttempts && performance.now() < giveUpAt; attempt++) {
      const host = this.hosts[this.next]!;
      const timeout = Math.max(1, Math.min(attemptTimeoutMs, giveUpAt - performance.now()));
      try {
        const response = await fetch(`${host}/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
          body,
          signal: AbortSignal.timeout(timeout),
        });
        const text = await response.text();
        if (response.status === 201 || response.status === 200) {
          return { type: 'ok', status: response.status, payment: JSON.parse(text) as StoredPayment, host };
        }
        if (response.status >= 400 && response.status < 500)
          return { type: 'fail', status: response.status, error: text };
        // 503 (no quorum) or any 5xx: the commit may or may not have happened; retry elsewhere.
        possiblyApplied = true;
        lastError = `${response.status} from ${host}: ${text.slice(0, 120)}`;
        const retryAfter = Number(response.headers.get('retry-after') ?? '0');
        await sleep(Math.min(1000, Math.max(50, retryAfter * 1000) * (attempt + 1) * 0.25));
      } catch (error) {
        if (!neverDelivered(error)) possiblyApplied = true;
        lastError = `${host}: ${(error as Error).name} ${(error as Error).message}`;
        await sleep(Math.min(500, 50 * (attempt + 1)));
      }
      this.next = (this.next + 1) % this.hosts.length;
    }
    return possiblyApplied
      ? { type: 'unknown', error: lastError }
      : { type: 'fail', status: 0, error: lastError };
  }
}
