/**
 * Throughput over time, and what each fault did to it: acknowledged payments per second, the
 * dip during each fault against the throughput just before it, and how long after the heal it
 * took to come back. Also renders the timeline as a standalone SVG (faults as shaded bands).
 */
import type { HistoryEvent } from './history';
import type { FaultKind, FaultRecord } from './nemesis';

/** Acknowledged operations per whole second of the run. */
export function throughputPerSecond(history: HistoryEvent[], durationMs: number): number[] {
  const buckets = new Array<number>(Math.max(1, Math.ceil(durationMs / 1000))).fill(0);
  for (const e of history) {
    if (e.type !== 'ok') continue;
    const i = Math.floor(e.time / 1000);
    if (i >= 0 && i < buckets.length) buckets[i]! += 1;
  }
  return buckets;
}

export interface FaultImpact {
  kind: FaultKind;
  target: string;
  startS: number;
  /** Acks/s over the 10 s before the fault. */
  baseline: number;
  /** Share of the baseline lost, on average, from injection to heal (0..1). */
  dip: number;
  /** Share of the baseline lost in the worst whole second of the fault (0..1). */
  worstSecondDip: number;
  /**
   * Seconds from the heal until a 3 s average is back to 80 % of the baseline; undefined when
   * that did not happen before the next fault began (or the run ended).
   */
  recoveryS: number | undefined;
  /** Seconds from the heal until every member and host answered healthy (undefined: never). */
  healthyAfterS: number | undefined;
}

/** Share of the baseline throughput that counts as recovered. */
const RECOVERED_SHARE = 0.8;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * One-second buckets are noisy on a shared machine, so the dip is averaged over the fault, and
 * recovery asks for a 3 s average, not one lucky second.
 */
export function faultImpacts(faults: FaultRecord[], perSecond: number[]): FaultImpact[] {
  return faults.map((f, index) => {
    const nextStartS = Math.floor((faults[index + 1]?.start ?? perSecond.length * 1000) / 1000);
    const startS = Math.floor(f.start / 1000);
    const healedS = Math.floor(f.healed / 1000);
    const baseline = mean(perSecond.slice(Math.max(0, startS - 10), startS));
    const during = perSecond.slice(startS, Math.max(healedS + 1, startS + 1));
    const lost = (v: number) => (baseline > 0 ? Math.max(0, 1 - v / baseline) : 0);
    let recoveryS: number | undefined;
    for (let s = healedS; s + 3 <= Math.min(perSecond.length, nextStartS + 1); s++) {
      if (mean(perSecond.slice(s, s + 3)) >= RECOVERED_SHARE * baseline) {
        recoveryS = Math.max(0, s - f.healed / 1000);
        break;
      }
    }
    return {
      kind: f.kind,
      target: f.target,
      startS: f.start / 1000,
      baseline,
      dip: lost(mean(during)),
      worstSecondDip: lost(during.length ? Math.min(...during) : baseline),
      recoveryS,
      healthyAfterS: f.recovered === undefined ? undefined : (f.recovered - f.healed) / 1000,
    };
  });
}

/** One row per fault kind, for the summary table: count, mean dip, recovery times (mean / max). */
export function impactRows(impacts: FaultImpact[]) {
  const kinds = [...new Set(impacts.map((i) => i.kind))];
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  const meanMax = (xs: number[], missing: number) =>
    `${xs.length ? `${avg(xs).toFixed(1)} / ${Math.max(...xs).toFixed(1)}` : 'n/a'}${missing ? ` (${missing} not before the next fault)` : ''}`;
  return kinds.map((kind) => {
    const of = impacts.filter((i) => i.kind === kind);
    const recoveries = of.flatMap((i) => (i.recoveryS === undefined ? [] : [i.recoveryS]));
    const healthy = of.flatMap((i) => (i.healthyAfterS === undefined ? [] : [i.healthyAfterS]));
    return {
      kind,
      count: of.length,
      'mean dip': pct(avg(of.map((i) => i.dip))),
      'worst second': pct(Math.max(...of.map((i) => i.worstSecondDip))),
      'throughput back (s, mean / max)': meanMax(recoveries, of.length - recoveries.length),
      'healthy after heal (s, mean / max)': meanMax(healthy, of.length - healthy.length),
    };
  });
}

const COLOURS: Record<FaultKind, string> = {
  'kill-etcd-follower': '#f4a582',
  'kill-etcd-leader': '#d6604d',
  'kill-host': '#b2182b',
  'kill-leader-host': '#67001f',
  'pause-etcd-member': '#92c5de',
  'pause-host': '#4393c3',
  'isolate-etcd-leader': '#c2a5cf',
  'cut-host-from-etcd': '#9970ab',
};

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function timelineSvg(perSecond: number[], faults: FaultRecord[], title: string): string {
  const width = 1000;
  const height = 320;
  const left = 50;
  const top = 30;
  const plotW = width - left - 20;
  const plotH = 200;
  const maxY = Math.max(1, ...perSecond);
  const x = (s: number) => left + (s / Math.max(1, perSecond.length)) * plotW;
  const y = (v: number) => top + plotH - (v / maxY) * plotH;
  const bands = faults
    .map(
      (f) =>
        `<rect x="${x(f.start / 1000).toFixed(1)}" y="${top}" width="${Math.max(1, x(f.healed / 1000) - x(f.start / 1000)).toFixed(1)}" height="${plotH}" fill="${COLOURS[f.kind]}" opacity="0.45"><title>${escapeXml(`${f.kind} on ${f.target}`)}</title></rect>`,
    )
    .join('\n');
  const line = perSecond.map((v, s) => `${x(s + 0.5).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const legend = (Object.keys(COLOURS) as FaultKind[])
    .map(
      (k, i) =>
        `<rect x="${left + (i % 4) * 230}" y="${top + plotH + 35 + Math.floor(i / 4) * 18}" width="12" height="12" fill="${COLOURS[k]}"/><text x="${left + (i % 4) * 230 + 16}" y="${top + plotH + 46 + Math.floor(i / 4) * 18}">${k}</text>`,
    )
    .join('\n');
  const ticks = Array.from({ length: 11 }, (_, i) => Math.round((i * perSecond.length) / 10))
    .map((s) => `<text x="${x(s).toFixed(1)}" y="${top + plotH + 15}" text-anchor="middle">${s}s</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="18" font-size="13">${escapeXml(title)}</text>
${bands}
<polyline points="${line}" fill="none" stroke="#222" stroke-width="1.5"/>
<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#888"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#888"/>
<text x="${left - 5}" y="${top + 8}" text-anchor="end">${maxY}</text><text x="${left - 5}" y="${top + plotH}" text-anchor="end">0</text>
<text x="12" y="${top + plotH / 2}" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle">acks/s</text>
${ticks}
${legend}
</svg>
`;
}
