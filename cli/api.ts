/**
 * payctl's HTTP client for the function hosts. It tries each candidate host in turn, so a dead
 * host does not stop the operator, and maps answers onto payctl's exit codes.
 */
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

  constructor({ hosts, timeoutMs = 10_000, apiKey }: ApiClientOptions) {
    this.hosts = hosts;
    this.timeoutMs = timeoutMs;
    this.apiKey = apiKey;
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
