/**
 * payctl's HTTP client for the function hosts, mapping answers onto payctl's exit codes. Payments
 * (pay, get) go through PaymentsClient (client/payments-client.ts), with its failover and retries
 * of the same payment id; every other request tries each candidate host in turn, so a dead host
 * does not stop the operator.
 */
import { type ApiError, PaymentsClient } from '../client/payments-client';
import type { PaymentRequest, StoredPayment } from '../ledger/payment';
import { CliError, EXIT_CODES } from './errors';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  /** The host that answered. */
  host: string;
}

export interface ApiClientOptions {
  /** Host base URLs, tried in order until one answers. */
  hosts: string[];
  /** Per-request timeout, ms. Default 10 000 (longer than a host's 5 s request deadline). */
  timeoutMs?: number;
  /** API key sent as `Authorization: Bearer`. Default none (then only /health and /ready answer). */
  apiKey?: string;
}

interface ErrorShape {
  error?: { code?: string; message?: string; details?: { field: string; message: string }[] };
}

export class ApiClient {
  readonly hosts: string[];
  private readonly timeoutMs: number;
  private readonly apiKey: string | undefined;
  private readonly payments: PaymentsClient;

  constructor({ hosts, timeoutMs = 10_000, apiKey }: ApiClientOptions) {
    this.hosts = hosts;
    this.timeoutMs = timeoutMs;
    this.apiKey = apiKey;
    // Retries within two attempt timeouts in all, so an operator waits at most about 20 s.
    this.payments = new PaymentsClient({
      hosts,
      apiKey,
      attemptTimeoutMs: timeoutMs,
      deadlineMs: 2 * timeoutMs,
    });
  }

  /** POST /payments, failing over with the same id; a refusal or a give-up is a CliError. */
  async pay(
    request: PaymentRequest & { id: string },
  ): Promise<{ outcome: 'committed' | 'replayed'; payment: StoredPayment }> {
    const answer = await this.payments.pay(request);
    switch (answer.kind) {
      case 'committed':
      case 'replayed':
        return { outcome: answer.kind, payment: answer.payment };
      case 'failed':
        throw unanswered(answer.reason, answer.indeterminate);
      default:
        throw apiError(answer.status, shape(answer.error), '/payments');
    }
  }

  /** GET /payments/:id[?payer=], failing over; not found, ambiguous or a give-up is a CliError. */
  async payment(id: string, payer: string | undefined): Promise<StoredPayment> {
    const answer = await this.payments.get(id, { payer });
    const path = `/payments/${id}`;
    switch (answer.kind) {
      case 'found':
        return answer.payment;
      case 'not-found':
        throw apiError(404, shape(answer.error), path);
      case 'ambiguous':
        throw apiError(409, shape(answer.error), path);
      case 'rejected':
        throw apiError(answer.status, shape(answer.error), path);
      case 'failed':
        throw unanswered(answer.reason, false);
    }
  }

  /** One request on the first host that answers at all; any HTTP status is returned, not thrown. */
  async raw<T>(path: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
    const failures: string[] = [];
    for (const host of this.hosts) {
      let response: Response;
      try {
        const headers = new Headers(init.headers);
        if (this.apiKey) headers.set('authorization', `Bearer ${this.apiKey}`);
        response = await fetch(`${host}${path}`, {
          ...init,
          headers,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        failures.push(`${host}: ${(error as Error).cause ?? (error as Error).message}`);
        continue;
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (e.g. /metrics); keep the text
      }
      return { status: response.status, body: body as T, host };
    }
    throw new CliError(
      `no host answered (is the cluster running? \`npm start\`, or pass --url):\n  ${failures.join('\n  ')}`,
      EXIT_CODES.unavailable,
    );
  }

  /** A request whose non-2xx answers become CliErrors with the API's own message. */
  async json<T>(path: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
    const answer = await this.raw<T>(path, init);
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw apiError(answer.status, answer.body as ErrorShape, path);
  }

  /** GET a JSON endpoint another part of the system may not have deployed: undefined on 404. */
  async optional<T>(path: string): Promise<ApiAnswer<T> | undefined> {
    const answer = await this.raw<T & ErrorShape>(path);
    if (answer.status === 404 && answer.body?.error?.code === 'not_found') return undefined;
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw apiError(answer.status, answer.body, path);
  }
}

/** PaymentsClient's error, read like any other error body (its details are the API's own list). */
const shape = (error: ApiError): ErrorShape => ({ error: error as ErrorShape['error'] });

/** PaymentsClient gave up: no host settled the request. */
function unanswered(reason: string, indeterminate: boolean): CliError {
  const outcome = indeterminate
    ? ' The payment may have been recorded: repeat the same command (same --payer and --id) to find out.'
    : '';
  return new CliError(
    `no host settled the request (is the cluster running? \`npm start\`, or pass --url): ${reason}.${outcome}`,
    EXIT_CODES.unavailable,
  );
}

function apiError(status: number, body: ErrorShape, path: string): CliError {
  const e = body?.error;
  const details = e?.details?.map((d) => `\n  ${d.field || '(body)'}: ${d.message}`).join('') ?? '';
  // The API's hint names its query parameter; on the command line it is the --payer option.
  const hint = e?.code === 'ambiguous_payment_id' ? '\n  repeat with --payer <one of the payers above>' : '';
  const message = `${e?.message ?? `HTTP ${status} from ${path}`}${details}${hint}`;
  if (status === 404) return new CliError(message, EXIT_CODES.notFound);
  if (status === 401)
    return new CliError(
      `${message} (pass --api-key or PAYMENTS_API_KEY; the local cluster's admin key is in .data/dev-admin-key)`,
      EXIT_CODES.refused,
    );
  if (status === 503)
    return new CliError(`${message} (cluster unavailable; retry later)`, EXIT_CODES.unavailable);
  if (status >= 500) return new CliError(`${message} (HTTP ${status})`, EXIT_CODES.unavailable);
  return new CliError(message, EXIT_CODES.refused);
}
