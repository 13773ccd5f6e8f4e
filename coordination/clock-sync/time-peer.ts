/**
 * How hosts reach each other's clocks: `GET /time` reads a host's clock, `POST /time/adjust`
 * sends it a Berkeley adjustment (handlers in functions/handlers/time.ts). Kept behind an interface so
 * the protocols can be tested with any transport; the HTTP one counts its messages, which is
 * how the cost of synchronization is measured (dev/measure-clock-sync.ts).
 *
 * It uses node:http with a keep-alive agent rather than fetch: a clock poll is a tiny request
 * sent every round, and a reused connection both costs less CPU and keeps the round trip short
 * and steady (no TCP handshake inside the RTT that Cristian's and Berkeley's estimates halve).
 */
import { Agent, request } from 'node:http';

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
  /** ± bound on `time`, ms; null before the first sync. */
  estimateErrorMs: number | null;
  synced: boolean;
  /**
   * Where the host's time comes from (coordination/clock/clock-sync.ts `timeSource()`):
   * `reference` (the master, on its NTP reference), `internal` (the master without one),
   * `master` (a host following the master), `unsynchronized`; null on a host that does not
   * synchronize.
   */
  source: 'reference' | 'internal' | 'master' | 'unsynchronized' | null;
  /** On the master: its error bound against the reference, growing while none answers, ms; else null. */
  referenceErrorBoundMs: number | null;
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
  /**
   * The master's fencing token: its campaign key's create revision (coordination/cluster/
   * leader-election.ts), decimal. A host refuses a token older than the highest it has seen, so
   * of two masters during a handover only the newer one can adjust it (issue 15 §6).
   */
  fencingToken: string;
  /**
   * True when the master's time is its external reference's: the host may then intersect it with
   * its current bound (HostClock.refine), both being against the same reference. Default false.
   */
  referenced?: boolean;
}

export interface TimePeer {
  readTime(url: string): Promise<TimeReading>;
  sendAdjustment(url: string, adjustment: TimeAdjustment): Promise<void>;
  /** Releases connections, if the transport keeps any. */
  close?(): void;
}

export interface HttpTimePeerOptions {
  /** Deadline of one request, ms. Default 500: a clock reading that slow is useless anyway. */
  timeoutMs?: number;
  /**
   * The API key sent with adjustments (peers accept them only from a key with the `clock` scope),
   * read at each send because a host obtains its key asynchronously. Default none.
   */
  apiKey?: () => string | undefined;
}

/** The HTTP transport; `messages` counts requests and responses sent over it. */
export class HttpTimePeer implements TimePeer {
  messages = 0;
  private readonly timeoutMs: number;
  private readonly apiKey: () => string | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor({ timeoutMs = 500, apiKey = () => undefined }: HttpTimePeerOptions = {}) {
    this.timeoutMs = timeoutMs;
    this.apiKey = apiKey;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  async readTime(url: string): Promise<TimeReading> {
    return (await this.call(`${url}/time`, { method: 'GET' })) as TimeReading;
  }

  async sendAdjustment(url: string, adjustment: TimeAdjustment): Promise<void> {
    const key = this.apiKey();
    await this.call(`${url}/time/adjust`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(adjustment),
    });
  }

  private call(
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
  ): Promise<unknown> {
    this.messages += 1;
    return new Promise((resolve, reject) => {
      const options = {
        method: init.method,
        headers: init.headers,
        agent: this.agent,
        timeout: this.timeoutMs,
      };
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          this.messages += 1;
          const text = Buffer.concat(chunks).toString();
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`${init.method} ${url} answered ${res.statusCode}: ${text}`));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(error);
          }
        });
      });
      req.on('timeout', () =>
        req.destroy(new Error(`${init.method} ${url}: no answer within ${this.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(init.body);
    });
  }
}
