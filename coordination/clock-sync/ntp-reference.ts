/**
 * The time master's external reference: NTP servers asked over UDP (RFC 5905, client mode)
 * through @hapi/sntp. External synchronization happens here, at the master; Berkeley rounds then
 * spread that time among the hosts (coordination/clock/berkeley.ts).
 *
 * One sample of one server gives this machine's offset t and the round trip d; the true offset is
 * within d/2 of t (the same bound as Cristian's), widened by the server's own distance to its
 * reference (root delay / 2 + root dispersion, RFC 5905 §11.2 "root distance"). Per server the
 * samples are intersected (`intersectSamples`: never looser than the smallest-delay sample that
 * RFC 5905 §10's clock filter keeps, tighter under jitter), and the servers are combined by
 * Marzullo's intersection (coordination/clock-sync/clock-selection.ts): a majority must
 * agree, or the reference is unusable and the master falls back to internal agreement.
 *
 * The exchange is timed here on the machine's clock (T1 before the request, T4 after the answer);
 * the server's T2 and T3 come from the answer. The host's own clock is the machine's clock skewed
 * (coordination/clock/clock.ts, simulated offset and drift), so the host's offset is the machine's
 * plus (machine − host), read at T4.
 */
import * as Sntp from '@hapi/sntp';
import { type HostClock, machineTime } from '../clock/clock';
import { intersectSamples, marzullo } from './clock-selection';

export interface ServerSample {
  server: string;
  /** What to add to the host's clock (targetNow) to reach this server's time, ms. */
  offsetMs: number;
  /** Smallest round trip of the samples, ms. */
  delayMs: number;
  /** Bound on |true offset − offsetMs|, ms. */
  errorMs: number;
}

export interface ReferenceSample {
  /** What to add to the host's clock to reach the reference time (midpoint of the intersection), ms. */
  offsetMs: number;
  /** Half the width of the servers' intersection: the true offset lies within ± this, ms. */
  errorMs: number;
  /** Servers that answered and agreed / answered. */
  agreeing: number;
  answered: number;
  servers: ServerSample[];
}

/** An external time reference for the time master. Kept behind an interface so tests can give their own. */
export interface TimeReference {
  /** Names of the servers, for /cluster and logs. */
  readonly servers: string[];
  /** Measures `clock` against the reference; throws when no majority of servers answers and agrees. */
  sample(clock: HostClock): Promise<ReferenceSample>;
  /** UDP datagrams sent and received so far. */
  readonly messages: number;
}

export interface NtpReferenceOptions {
  /** `host:port` of each NTP server (e.g. the launcher's chrony on 127.0.0.1). */
  servers: string[];
  /** Requests per server per sample; the fastest is kept. Default 3. */
  samplesPerServer?: number;
  /** Deadline of one request, ms. Default 500. */
  timeoutMs?: number;
}

/** Parses `host:port`; throws on anything else. */
export function parseNtpServer(text: string): { host: string; port: number } {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || !(port > 0 && port < 65_536)) throw new Error(`bad NTP server "${text}": want host:port`);
  return { host: match[1]!, port };
}

export class NtpReference implements TimeReference {
  readonly servers: string[];
  messages = 0;
  private readonly samplesPerServer: number;
  private readonly timeoutMs: number;

  constructor({ servers, samplesPerServer = 3, timeoutMs = 500 }: NtpReferenceOptions) {
    if (servers.length === 0) throw new Error('NtpReference needs at least one server');
    for (const s of servers) parseNtpServer(s);
    this.servers = servers;
    this.samplesPerServer = samplesPerServer;
    this.timeoutMs = timeoutMs;
  }

  async sample(clock: HostClock): Promise<ReferenceSample> {
    const answered = (await Promise.all(this.servers.map((s) => this.sampleServer(s, clock)))).filter(
      (s): s is ServerSample => s !== undefined,
    );
    // A majority of all configured servers must agree, not only of those that answered.
    const minAgreeing = Math.floor(this.servers.length / 2) + 1;
    const intersection = marzullo(
      answered.map((s) => ({ lo: s.offsetMs - s.errorMs, hi: s.offsetMs + s.errorMs })),
      minAgreeing,
    );
    if (!intersection) {
      throw new Error(
        `no majority of NTP servers agrees (${answered.length} of ${this.servers.length} answered: ${this.servers.join(', ')})`,
      );
    }
    return {
      offsetMs: intersection.midpoint,
      errorMs: (intersection.hi - intersection.lo) / 2,
      agreeing: intersection.count,
      answered: answered.length,
      servers: answered,
    };
  }

  /** The intersection of `samplesPerServer` exchanges with one server; undefined when none answered. */
  private async sampleServer(server: string, clock: HostClock): Promise<ServerSample | undefined> {
    const { host, port } = parseNtpServer(server);
    const samples: { offsetMs: number; errorMs: number }[] = [];
    let delayMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.samplesPerServer; i++) {
      try {
        this.messages += 1;
        // T1 and T4 read here, on the sub-millisecond machine clock: the library's own are whole
        // milliseconds (Date.now), which would cost 1 ms of bound. These bracket its exchange, so the
        // round trip is the same or a little longer (socket set-up), never shorter.
        const t1 = machineTime();
        const answer = await Sntp.time({ host, port, timeout: this.timeoutMs });
        const t4 = machineTime();
        const hostNow = clock.targetNow();
        this.messages += 1;
        if (!answer.isValid || answer.leapIndicator === 'alarm') continue;
        // RFC 5905 §8: offset θ = ((T2 − T1) + (T3 − T4)) / 2, delay δ = (T4 − T1) − (T3 − T2); the true
        // offset is within δ/2 of θ, widened by the server's root distance. θ is the machine clock's;
        // the host's clock is the machine's plus (host − machine), read at T4.
        const t2 = answer.receiveTimestamp;
        const t3 = answer.transmitTimestamp;
        const delay = t4 - t1 - (t3 - t2);
        if (!(delay >= 0)) continue;
        samples.push({
          offsetMs: (t2 - t1 + (t3 - t4)) / 2 + (t4 - hostNow),
          errorMs: delay / 2 + answer.rootDelay / 2 + answer.rootDispersion,
        });
        delayMs = Math.min(delayMs, delay);
      } catch {
        // a lost or late datagram; the other samples may do
      }
    }
    return samples.length === 0 ? undefined : { server, delayMs, ...intersectSamples(samples) };
  }
}
