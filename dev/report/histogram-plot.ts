/**
 * A histogram as plain SVG (elections.svg: etcd leader-election times). Bins have a round width
 * chosen for about ten bars; x labels are thinned so no two overlap, and the median is marked.
 */
const W = 720;
const H = 320;
const LEFT = 55;
const RIGHT = 20;
const TOP = 40;
const BOTTOM = 60;
/** Narrowest room a tick label needs, px. */
const LABEL_PX = 48;

/** The round bin width (1, 2 or 5 × 10^k) that gives about `bars` bars over `span`. */
export function binWidth(span: number, bars = 10): number {
  const raw = Math.max(span, 1) / bars;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((w) => w >= raw)!;
}

export interface HistogramInput {
  title: string;
  xLabel: string;
  values: number[];
  /** A second line under the title (the machine, the run). */
  caption?: string;
  /** The median to mark, as the report computes it (stat.ts), so plot and text agree. */
  median: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function histogramSvg({ title, xLabel, values, caption, median }: HistogramInput): string {
  if (values.length === 0) throw new Error('a histogram needs values');
  const lo0 = Math.min(...values);
  const hi0 = Math.max(...values);
  const width = binWidth(hi0 - lo0);
  const lo = Math.floor(lo0 / width) * width;
  const bins = Math.max(1, Math.floor((hi0 - lo) / width) + 1);
  const counts = Array.from({ length: bins }, () => 0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]! += 1;
  const top = Math.max(...counts);
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const barW = plotW / bins;
  const x = (v: number) => LEFT + ((v - lo) / (bins * width)) * plotW;
  const y = (c: number) => TOP + plotH - (c / top) * plotH;
  const parts: string[] = [];
  counts.forEach((c, i) => {
    parts.push(
      `<rect x="${(LEFT + i * barW + 1).toFixed(1)}" y="${y(c).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(TOP + plotH - y(c)).toFixed(1)}" fill="#4c78a8"/>`,
    );
  });
  const every = Math.max(1, Math.ceil(LABEL_PX / barW));
  for (let i = 0; i <= bins; i += every)
    parts.push(
      `<line x1="${x(lo + i * width)}" x2="${x(lo + i * width)}" y1="${TOP + plotH}" y2="${TOP + plotH + 5}" stroke="#333"/>`,
      `<text x="${x(lo + i * width)}" y="${TOP + plotH + 18}" font-size="11" text-anchor="middle">${lo + i * width}</text>`,
    );
  const yStep = Math.max(1, Math.ceil(top / 5));
  for (let c = 0; c <= top; c += yStep)
    parts.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(c)}" y2="${y(c)}" stroke="#eee"/>`,
      `<text x="${LEFT - 6}" y="${y(c) + 4}" font-size="11" text-anchor="end">${c}</text>`,
    );
  // The median's label goes in the legend line, where no bar can cover it.
  parts.push(
    `<line x1="${x(median)}" x2="${x(median)}" y1="${TOP}" y2="${TOP + plotH}" stroke="#d62728" stroke-width="2" stroke-dasharray="5 3"/>`,
    `<line x1="${W - RIGHT - 150}" x2="${W - RIGHT - 128}" y1="${H - 8}" y2="${H - 8}" stroke="#d62728" stroke-width="2" stroke-dasharray="5 3"/>`,
    `<text x="${W - RIGHT - 122}" y="${H - 4}" font-size="11" fill="#d62728">median ${Math.round(median)} ms</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" font-size="14" text-anchor="middle">${escapeXml(title)}</text>
${caption ? `<text x="${W / 2}" y="33" font-size="11" fill="#555" text-anchor="middle">${escapeXml(caption)}</text>` : ''}
<line x1="${LEFT}" x2="${W - RIGHT}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#333"/>
${parts.join('\n')}
<text x="${LEFT + plotW / 2}" y="${H - 22}" font-size="12" text-anchor="middle">${escapeXml(xLabel)}</text>
<text x="14" y="${TOP + plotH / 2}" font-size="12" transform="rotate(-90 14 ${TOP + plotH / 2})" text-anchor="middle">leader kills</text>
</svg>
`;
}
