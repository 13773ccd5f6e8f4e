/**
 * PaymentsClient: how applications, load scripts and tests send payments to the function hosts.
 *
 * It spreads requests over the hosts (round robin), and retries exactly what is retryable: an
 * error answer whose body says `"retryable": true` (the server's `Retryable` mark, ledger/errors.ts
 * and functions/http-errors.ts), and an attempt that got no answer (connection error, timeout), whose
 * outcome is unknown. It sends the same payment, with the same id, to another host after a backoff
 * with full jitter, until the deadline or `maxAttempts`. That is safe because the ledger commits a
 * payer's id at most once: a retry of a payment that did commit comes back as `replayed`, never
 * as a second payment. Every other answer settles the request at once.
 *
 * Hosts come from a static list, or are discovered from `GET /hosts` on any known host (the
 * live set from membership), refreshed periodically and after failures. A host that just failed is
 * skipped for `hostCooldownMs`, so one dead host costs each request at most one attempt.
 */
import { performance } from 'node:perf_hooks';
import type { PaymentRequest, StoredPayment } from '../ledger/payment';

export type PaymentOutcome =
  /** 201: this request committed the payment. */
  | { kind: 'committed'; payment: StoredPayment; attempts: number; host: string }
  /** 200: the payer's id was already committed with the same content (possibly by an earlier attempt of ours). */
  | { kind: 'replayed'; payment: StoredPayment; attempts: number; host: string }
  /** 409: the payer's id was already committed with different content. */
  | { kind: 'conflict'; status: number; error: ApiError; attempts: number }
  /** Other 4xx: the request itself is wrong; nothing was written. */
  | { kind: 'rejected'; status: number; error: ApiError; attempts: number }
  /** No answer that settles it before the deadline (or a 5xx that is not retryable): outcome unknown. */
  | FailedOutcome;

/** No answer that settles the request before the deadline (or a 5xx that is not retryable). */
export interface FailedOutcome {
  kind: 'failed';
  reason: string;
  attempts: number;
  /**
   * True when some attempt may have reached a host and been applied (a timeout, a reset
   * connection, a 5xx): the outcome is unknown. False only when every attempt was refused before
   * it was delivered (connection refused), so nothing can have been written.
   */
  indeterminate: boolean;
}

/** What `get` found. */
export type LookupOutcome =
  /** 200: the payment. */
  | { kind: 'found'; payment: StoredPayment; attempts: number; host: string }
  /** 404: no such payment (for that payer, when one was given). */
  | { kind: 'not-found'; error: ApiError; attempts: number }
  /** 409 without a payer: several payers used the id; ask again with one of `payers`. */
  | { kind: 'ambiguous'; payers: string[]; error: ApiError; attempts: number }
  /** Other 4xx: the request itself is wrong (an invalid id or payer). */
  | { kind: 'rejected'; status: number; error: ApiError; attempts: number }
  | FailedOutcome;

/** What `history` got: one page of an account's payments. */
export type HistoryOutcome =
  /** 200: payments in commit order (ascending sequence); `nextCursor` continues after them, or null at the end. */
  | { kind: 'page'; payments: StoredPayment[]; nextCursor: string | null; attempts: number; host: string }
  /** 4xx: the request itself is wrong (an invalid account, limit or cursor). */
  | { kind: 'rejected'; status: number; error: ApiError; attempts: number }
  | FailedOutcome;

/** The error body's `error` (functions/http-errors.ts). */
export interface ApiError {
  code: string;
  message: string;
  /** The server's Retryable mark: the same request may be sent again, on any host. */
  retryable: boolean;
  details?: unknown;
}

/** Limits on one call's attempts, overriding the client's for that call. */
export interface Patience {
  /** Most attempts. Default the client's `maxAttempts`. */
  maxAttempts?: number;
  /** Time one attempt may take, ms. Default the client's `attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
}

export interface PaymentsClientOptions {
  /** Host base URLs to use as they are (static mode)... */
  hosts?: string[];
  /** ...or seed URLs to discover the live hosts from via GET /hosts (discovery mode). */
  discoverFrom?: string[];
  /** How often discovery refreshes the host list, ms. Default 5000. */
  discoveryIntervalMs?: number;
  /** Time one attempt may take before it counts as failed, ms. Default 3000. */
  attemptTimeoutMs?: number;
  /** Overall time for one payment, all retries included, ms. Default 20 000. */
  deadlineMs?: number;
  /** Most attempts for one request, retries included. Default unlimited (the deadline bounds them). */
  maxAttempts?: number;
  /** Index of the first host to use; spreads several clients over the hosts. Default 0. */
  startAt?: number;
  /** First backoff, ms; doubles per retry, with full jitter. Default 50. */
  backoffInitialMs?: number;
  /** Largest backoff, ms. Default 1000. */
  backoffMaxMs?: number;
  /** How long a host that failed is skipped, ms. Default 1000. */
  hostCooldownMs?: number;
  /** API key sent as `Authorization: Bearer <key>` (functions/auth/). Default none. */
  apiKey?: string;
  /** Injected for tests. Default the global fetch. */
  fetch?: typeof fetch;
}

/**
 * Statuses a gateway or proxy in front of a host answers with when it got no answer from the host.
 * Such a body is not ours and carries no flag: the outcome is unknown, so it is retried.
 */
const NO_ANSWER_STATUSES = new Set([502, 503, 504]);

export class PaymentsClient {
  private hosts: string[];
  private readonly seeds: string[];
  private readonly discovery: boolean;
  private readonly options: Required<
    Omit<PaymentsClientOptions, 'hosts' | 'discoverFrom' | 'fetch' | 'apiKey' | 'startAt'>
  >;
  private readonly authorization: Record<string, string>;
  private readonly fetch: typeof fetch;
  private readonly downUntil = new Map<string, number>();
  private next = 0;
  private lastDiscovery = Number.NEGATIVE_INFINITY;
  private discovering: Promise<void> | undefined;

  constructor({
    hosts,
    discoverFrom,
    discoveryIntervalMs = 5000,
    attemptTimeoutMs = 3000,
    deadlineMs = 20_000,
    maxAttempts = Number.POSITIVE_INFINITY,
    startAt = 0,
    backoffInitialMs = 50,
    backoffMaxMs = 1000,
    hostCooldownMs = 1000,
    fetch: fetchImpl = globalThis.fetch,
    apiKey,
  }: PaymentsClientOptions) {
    if (!hosts?.length && !discoverFrom?.length)
      throw new Error('PaymentsClient needs `hosts` or `discoverFrom`');
    this.discovery = !hosts?.length;
    this.seeds = discoverFrom ?? [];
    this.hosts = [...(hosts ?? discoverFrom ?? [])];
    this.options = {
      discoveryIntervalMs,
      attemptTimeoutMs,
      deadlineMs,
      maxAttempts,
      backoffInitialMs,
      backoffMaxMs,
      hostCooldownMs,
    };
    this.fetch = fetchImpl;
    this.authorization = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    this.next = Math.max(0, startAt) % Math.max(1, this.hosts.length);
  }

  /** The hosts requests are currently spread over. */
  knownHosts(): string[] {
    return [...this.hosts];
  }

  /** Sends one payment; resolves with its outcome, never throws for a server or network failure. */
  pay(request: PaymentRequest & { id: string }, patience: Patience = {}): Promise<PaymentOutcome> {
    const body = JSON.stringify(request);
    return this.exchange(
      '/payments',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      (status, text, host, attempts): PaymentOutcome | undefined => {
        if (status === 201 || status === 200) {
          const kind = status === 201 ? 'committed' : 'replayed';
          return { kind, payment: JSON.parse(text) as StoredPayment, attempts, host };
        }
        const error = parseError(text, status);
        if (status === 409) return { kind: 'conflict', status: 409, error, attempts };
        if (status >= 400 && status < 500) return { kind: 'rejected', status, error, attempts };
        return undefined;
      },
      patience,
    );
  }

  /**
   * Reads one payment by id, retrying like `pay`. A payment is identified by its payer and id;
   * without `payer`, an id that several payers used is answered `ambiguous`, with their names.
   */
  get(id: string, { payer }: { payer?: string } = {}): Promise<LookupOutcome> {
    const query = payer === undefined ? '' : `?payer=${encodeURIComponent(payer)}`;
    return this.exchange(
      `/payments/${encodeURIComponent(id)}${query}`,
      { method: 'GET' },
      (status, text, host, attempts): LookupOutcome | undefined => {
        if (status === 200)
          return { kind: 'found', payment: JSON.parse(text) as StoredPayment, attempts, host };
        if (status >= 500) return undefined;
        const error = parseError(text, status);
        if (status === 404) return { kind: 'not-found', error, attempts };
        if (status === 409 && error.code === 'ambiguous_payment_id') {
          const details = Array.isArray(error.details) ? (error.details as { message: string }[]) : [];
          return { kind: 'ambiguous', payers: details.map((d) => d.message), error, attempts };
        }
        return { kind: 'rejected', status, error, attempts };
      },
    );
  }

  /**
   * Reads one page of an account's history (GET /payments?account=), retrying like `get`. Pass the
   * previous page's `nextCursor` as `cursor` to continue; `limit` is the page size (1..1000).
   */
  history(
    account: string,
    { cursor, limit }: { cursor?: string; limit?: number } = {},
  ): Promise<HistoryOutcome> {
    const query = new URLSearchParams({ account });
    if (limit !== undefined) query.set('limit', String(limit));
    if (cursor !== undefined) query.set('cursor', cursor);
    return this.exchange(
      `/payments?${query}`,
      { method: 'GET' },
      (status, text, host, attempts): HistoryOutcome | undefined => {
        if (status === 200) {
          const page = JSON.parse(text) as { payments: StoredPayment[]; nextCursor: string | null };
          return { kind: 'page', payments: page.payments, nextCursor: page.nextCursor, attempts, host };
        }
        if (status >= 500) return undefined;
        return { kind: 'rejected', status, error: parseError(text, status), attempts };
      },
    );
  }

  /**
   * One request, retried on another host while the answer is retryable (see the header), until the
   * deadline or the last attempt. `settle` turns any other answer into the result; one it leaves
   * unsettled (a 5xx without the mark) fails at once.
   */
  private async exchange<T>(
    path: string,
    init: RequestInit,
    settle: (status: number, text: string, host: string, attempts: number) => T | undefined,
    {
      maxAttempts = this.options.maxAttempts,
      attemptTimeoutMs = this.options.attemptTimeoutMs,
    }: Patience = {},
  ): Promise<T | FailedOutcome> {
    const deadline = performance.now() + this.options.deadlineMs;
    let lastReason = 'no attempt made';
    let indeterminate = false;
    const failed = (reason: string, attempts: number): FailedOutcome => ({
      kind: 'failed',
      reason,
      attempts,
      indeterminate,
    });
    for (let attempt = 1; ; attempt++) {
      await this.maybeDiscover();
      const host = this.pickHost();
      const timeout = Math.min(attemptTimeoutMs, deadline - performance.now());
      if (timeout <= 0) return failed(`deadline passed; last: ${lastReason}`, attempt - 1);
      try {
        const response = await this.fetch(`${host}${path}`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), ...this.authorization },
          signal: AbortSignal.timeout(timeout),
        });
        const text = await response.text();
        const error = response.ok ? undefined : parseError(text, response.status);
        // A 5xx leaves a write's outcome unknown, whether or not it may be retried.
        if (response.status >= 500) indeterminate = true;
        if (!error?.retryable) {
          const settled = settle(response.status, text, host, attempt);
          if (settled !== undefined) return settled;
          return failed(
            `${host} answered ${response.status}: ${error?.message ?? text.slice(0, 200)}`,
            attempt,
          );
        }
        lastReason = `${host} answered ${response.status}: ${error.message}`;
      } catch (error) {
        // Refused before delivery: nothing was sent. Anything else (reset, timeout) may have been applied.
        if (!neverDelivered(error)) indeterminate = true;
        lastReason = `${host}: ${describe(error)}`;
      }
      this.markDown(host);
      if (attempt >= maxAttempts)
        return failed(`gave up after ${attempt} attempts; last: ${lastReason}`, attempt);
      const pause = this.backoff(attempt);
      if (performance.now() + pause >= deadline)
        return failed(`deadline passed; last: ${lastReason}`, attempt);
      await sleep(pause);
    }
  }

  /** Re-reads the live host set from GET /hosts on the first seed or known host that answers. */
  async discover(): Promise<void> {
    // Ask hosts that have not just failed first: a paused one would cost a whole attempt timeout.
    const now = performance.now();
    const candidates = [...new Set([...this.hosts, ...this.seeds])].sort(
      (a, b) => Number((this.downUntil.get(a) ?? 0) > now) - Number((this.downUntil.get(b) ?? 0) > now),
    );
    for (const url of candidates) {
      try {
        const response = await this.fetch(`${url}/hosts`, {
          headers: this.authorization,
          signal: AbortSignal.timeout(this.options.attemptTimeoutMs),
        });
        if (!response.ok) continue;
        const view = (await response.json()) as { hosts: { url: string }[] };
        const live = view.hosts.map((h) => h.url);
        if (live.length > 0) {
          this.hosts = live;
          this.lastDiscovery = performance.now();
          return;
        }
      } catch {
        // try the next one
      }
    }
    this.lastDiscovery = performance.now();
  }

  private async maybeDiscover(): Promise<void> {
    if (!this.discovery || performance.now() - this.lastDiscovery < this.options.discoveryIntervalMs) return;
    this.discovering ??= this.discover().finally(() => {
      this.discovering = undefined;
    });
    await this.discovering;
  }

  /** Next host in round-robin order that is not cooling down; any host if all are. */
  private pickHost(): string {
    const now = performance.now();
    for (let i = 0; i < this.hosts.length; i++) {
      const host = this.hosts[(this.next + i) % this.hosts.length]!;
      if ((this.downUntil.get(host) ?? 0) <= now) {
        this.next = (this.next + i + 1) % this.hosts.length;
        return host;
      }
    }
    const host = this.hosts[this.next % this.hosts.length]!;
    this.next = (this.next + 1) % this.hosts.length;
    return host;
  }

  private markDown(host: string): void {
    this.downUntil.set(host, performance.now() + this.options.hostCooldownMs);
    // A failure may mean the live set changed: refresh it on the next attempt.
    if (this.discovery) this.lastDiscovery = Number.NEGATIVE_INFINITY;
  }

  /** Full jitter (AWS "Exponential Backoff and Jitter"): uniform in [0, min(max, initial · 2^(n-1))]. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** (attempt - 1));
    return Math.random() * ceiling;
  }
}

/** The error of an answer; one not in our shape is retryable only when it says the host never answered. */
function parseError(text: string, status: number): ApiError {
  try {
    const body = JSON.parse(text) as { error?: Partial<ApiError> };
    const { code, message, retryable, details } = body.error ?? {};
    if (typeof code === 'string') {
      const error: ApiError = { code, message: String(message ?? ''), retryable: retryable === true };
      return details === undefined ? error : { ...error, details };
    }
  } catch {
    // not our JSON error shape
  }
  return { code: `http_${status}`, message: text.slice(0, 200), retryable: NO_ANSWER_STATUSES.has(status) };
}

/** True when the request surely never reached a host: the connection was refused. */
function neverDelivered(error: unknown): boolean {
  return (error as { cause?: { code?: string } })?.cause?.code === 'ECONNREFUSED';
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
