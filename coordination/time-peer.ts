/**
 * How hosts reach each other's clocks: `GET /time` reads a host's clock, `POST /time/adjust`
 * sends it a Berkeley adjustment (handlers in functions/time.ts). Kept behind an interface so
 * the protocols can be tested with any transport; the HTTP one counts its messages, which is
 * how the cost of synchronization is measured (scripts/measure-clock-sync.ts).
 */

/** What `GET /time` answers. */
export interface TimeReading {
  host: string;
  /** The host's estimate of cluster time (raw + whole target correction): what sync protocols compare. */
  time: number;
  /** Its corrected clock, as timestamps are taken from it (slewing). */
  corrected: number;
  /** Its raw, uncorrected clock. */
  raw: number;
  /** ± bound on `corrected`, ms; null before the first sync (JSON has no Infinity). */
  errorBoundMs: number | null;
  synced: boolean;
}

/** What `POST /time/adjust` carries. */
export interface TimeAdjustment {
  /** Id of the master that computed it; a host accepts it only from the leader it knows. */
  master: string;
  /** Change to apply to the host's target correction, ms. */
  deltaMs: number;
  /** ± error of the measurement behind it (RTT/2), ms. */
  errorMs: number;
  /** Round number, for logs and events. */
  round: number;
}

export interface TimePeer {
  readTime(url: string): Promise<TimeReading>;
  sendAdjustment(url: string, adjustment: TimeAdjustment): Promise<void>;
}

export interface HttpTimePeerOptions {
  /** Deadline of one request, ms. Default 500: a clock reading that slow is useless anyway. */
  timeoutMs?: number;
}

/** The HTTP transport; `messages` counts requests and responses sent over it. */
export class HttpTimePeer implements TimePeer {
  messages = 0;
  private readonly timeoutMs: number;

  constructor({ timeoutMs = 500 }: HttpTimePeerOptions = {}) {
    this.timeoutMs = timeoutMs;
  }

  async readTime(url: string): Promise<TimeReading> {
    return (await this.call(`${url}/time`, { method: 'GET' })) as TimeReading;
  }

  async sendAdjustment(url: string, adjustment: TimeAdjustment): Promise<void> {
    await this.call(`${url}/time/adjust`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(adjustment),
    });
  }

  private async call(url: string, init: RequestInit): Promise<unknown> {
    this.messages += 1;
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    this.messages += 1;
    const body = await response.json();
    if (!response.ok)
      throw new Error(`${init.method} ${url} answered ${response.status}: ${JSON.stringify(body)}`);
    return body;
  }
}
