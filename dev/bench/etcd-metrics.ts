/**
 * etcd's own view of a bench row, from each member's Prometheus /metrics (served on the plain-http
 * metrics listener, --listen-metrics-urls, so no client certificate is needed): scraped before and
 * after the row, and polled during it for the proposals-pending gauge.
 *
 * A p99 comes from the deltas of a histogram's cumulative buckets over the row, summed across
 * members (and across peers for the round-trip time), then estimated as Prometheus'
 * histogram_quantile does: find the bucket holding rank q·count and interpolate linearly inside it
 * (https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile).
 */

/** One sample line of the text exposition format: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (comments and blank lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of every series of `name` (all label sets). */
export function total(samples: Sample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
}

/** Cumulative bucket counts of histogram `name`, by upper bound, summed over every other label. */
export function buckets(samples: Sample[], name: string): Map<number, number> {
  const byBound = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  return byBound;
}

/** after − before, bucket by bucket (a bucket missing before counts from 0). */
export function bucketDeltas(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  return new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)]));
}

/**
 * The q-quantile of cumulative bucket counts, linear inside the bucket that holds it; the lower
 * bound of the first bucket is 0; a quantile in the +Inf bucket is the highest finite bound.
 * NaN when the buckets observed nothing.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number {
  const sorted = [...cumulative].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count <= 0) return Number.NaN;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, cum] of sorted) {
    if (cum >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound;
      if (cum === lowerCount) return le;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (cum - lowerCount);
    }
    lowerBound = le;
    lowerCount = cum;
  }
  return lowerBound;
}

/** What the report quotes from etcd for one row (each a delta over the row unless named max). */
export interface EtcdRowMetrics {
  walFsyncP99Ms: number;
  backendCommitP99Ms: number;
  peerRttP99Ms: number;
  proposalsPendingMax: number;
  leaderChanges: number;
  proposalsCommitted: number;
  proposalsFailed: number;
}

const WAL_FSYNC = 'etcd_disk_wal_fsync_duration_seconds';
const BACKEND_COMMIT = 'etcd_disk_backend_commit_duration_seconds';
const PEER_RTT = 'etcd_network_peer_round_trip_time_seconds';
const PENDING = 'etcd_server_proposals_pending';

/** The row's figures from every member's scrape before and after it, and the highest pending seen. */
export function rowMetrics(before: Sample[][], after: Sample[][], pendingMax: number): EtcdRowMetrics {
  const p99Ms = (name: string) => {
    const summed = new Map<number, number>();
    after.forEach((a, i) => {
      for (const [le, d] of bucketDeltas(buckets(before[i]!, name), buckets(a, name))) {
        summed.set(le, (summed.get(le) ?? 0) + d);
      }
    });
    return histogramQuantile(0.99, summed) * 1000;
  };
  const deltas = (name: string) => after.map((a, i) => total(a, name) - total(before[i]!, name));
  return {
    walFsyncP99Ms: p99Ms(WAL_FSYNC),
    backendCommitP99Ms: p99Ms(BACKEND_COMMIT),
    peerRttP99Ms: p99Ms(PEER_RTT),
    proposalsPendingMax: pendingMax,
    // Every member sees each change of leader, and applies each committed proposal: the most any
    // member saw is the cluster's figure. A proposal fails on the member that proposed it: a sum.
    leaderChanges: Math.max(0, ...deltas('etcd_server_leader_changes_seen_total')),
    proposalsCommitted: Math.max(0, ...deltas('etcd_server_proposals_committed_total')),
    proposalsFailed: deltas('etcd_server_proposals_failed_total').reduce((a, b) => a + b, 0),
  };
}

/**
 * The value of an unlabelled gauge in exposition text, found without parsing the rest (a member's
 * /metrics is about 2,000 lines): the polls run inside the measured row, in the load generator's
 * process, whose CPU the bench reports. NaN when absent.
 */
export function gaugeValue(text: string, name: string): number {
  const prefix = `${name} `;
  const at = text.startsWith(prefix) ? 0 : text.indexOf(`\n${prefix}`) + 1;
  if (at === 0 && !text.startsWith(prefix)) return Number.NaN;
  const end = text.indexOf('\n', at);
  return Number(text.slice(at + prefix.length, end === -1 ? undefined : end));
}

/**
 * Scrapes the members' /metrics around a row: `start()` before it, `stop()` after it (both outside
 * the row's CPU readings); in between only the pending gauge is read, cheaply.
 */
export class EtcdMetricsProbe {
  private before: Sample[][] = [];
  private pendingMax = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `urls`: each member's /metrics; `pollMs`: how often the pending gauge is read during a row. */
  constructor(
    private readonly urls: string[],
    private readonly pollMs = 500,
  ) {}

  private texts(): Promise<string[]> {
    return Promise.all(
      this.urls.map(async (url) => (await fetch(url, { signal: AbortSignal.timeout(5000) })).text()),
    );
  }

  private async scrape(): Promise<Sample[][]> {
    return (await this.texts()).map(parsePrometheusText);
  }

  async start(): Promise<void> {
    this.before = await this.scrape();
    this.pendingMax = Math.max(0, ...this.before.map((s) => total(s, PENDING)));
    this.timer = setInterval(() => {
      this.texts()
        .then((all) => {
          const pending = all.map((text) => gaugeValue(text, PENDING)).filter(Number.isFinite);
          this.pendingMax = Math.max(this.pendingMax, ...pending);
        })
        .catch(() => {}); // a missed poll only lowers the max's resolution
    }, this.pollMs);
  }

  async stop(): Promise<EtcdRowMetrics> {
    clearInterval(this.timer);
    const after = await this.scrape();
    const pending = Math.max(this.pendingMax, ...after.map((s) => total(s, PENDING)));
    return rowMetrics(this.before, after, pending);
  }
}
