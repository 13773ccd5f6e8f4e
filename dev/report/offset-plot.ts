/**
 * An SVG of each host's clock offset from true time over time (issue 16's picture): a full-range
 * panel (seconds of skew at start) above a zoomed one (the milliseconds after convergence), with
 * vertical markers for events such as a leader kill. Plain SVG, no dependencies.
 */

export interface OffsetSeries {
  name: string;
  /** [seconds since start, offset ms]; NaN offsets (a dead host) break the line. */
  points: [number, number][];
}

export interface OffsetPlotInput {
  title: string;
  series: OffsetSeries[];
  events: { atS: number; label: string }[];
  /** Half-height of the zoomed panel, ms. Default 5. */
  zoomMs?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const W = 900;
const PANEL = 230;
const LEFT = 70;
const RIGHT = 20;

function panel(
  input: OffsetPlotInput,
  top: number,
  lo: number,
  hi: number,
  maxS: number,
  label: string,
): string {
  const x = (s: number) => LEFT + (s / maxS) * (W - LEFT - RIGHT);
  const y = (ms: number) => top + PANEL - ((Math.min(hi, Math.max(lo, ms)) - lo) / (hi - lo)) * PANEL;
  const parts: string[] = [
    `<rect x="${LEFT}" y="${top}" width="${W - LEFT - RIGHT}" height="${PANEL}" fill="none" stroke="#999"/>`,
    `<text x="12" y="${top + PANEL / 2}" font-size="12" transform="rotate(-90 12 ${top + PANEL / 2})" text-anchor="middle">${label}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${LEFT - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${+v.toFixed(1)}</text>`,
    );
  }
  // Time ticks under each panel: five, at round seconds.
  const step = Math.max(1, Math.ceil(maxS / 5));
  for (let t = 0; t <= maxS; t += step)
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${top + PANEL}" y2="${top + PANEL + 4}" stroke="#999"/>`,
      `<text x="${x(t)}" y="${top + PANEL + 15}" font-size="10" text-anchor="middle">${t}</text>`,
    );
  for (const e of input.events) {
    parts.push(
      `<line x1="${x(e.atS)}" x2="${x(e.atS)}" y1="${top}" y2="${top + PANEL}" stroke="#555" stroke-dasharray="4 3"/>`,
      `<text x="${x(e.atS) + 4}" y="${top + 14}" font-size="11">${e.label}</text>`,
    );
  }
  input.series.forEach((s, i) => {
    let d = '';
    let pen = false;
    for (const [t, ms] of s.points) {
      if (!Number.isFinite(ms)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(ms).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="1.3"/>`);
  });
  return parts.join('\n');
}

export function offsetPlot(input: OffsetPlotInput): string {
  const zoom = input.zoomMs ?? 5;
  const all = input.series.flatMap((s) => s.points.filter(([, v]) => Number.isFinite(v)));
  const maxS = Math.max(1, ...all.map(([t]) => t));
  const lo = Math.min(-zoom, ...all.map(([, v]) => v));
  const hi = Math.max(zoom, ...all.map(([, v]) => v));
  const height = 60 + 2 * PANEL + 95;
  const legend = input.series
    .map(
      (s, i) =>
        `<rect x="${LEFT + i * 120}" y="${height - 22}" width="14" height="4" fill="${COLOURS[i % COLOURS.length]}"/><text x="${LEFT + i * 120 + 20}" y="${height - 17}" font-size="12">${s.name}</text>`,
    )
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" font-size="14" text-anchor="middle">${input.title}</text>
${panel(input, 35, lo, hi, maxS, 'offset from true time, ms')}
${panel(input, 35 + PANEL + 30, -zoom, zoom, maxS, `zoom ±${zoom} ms`)}
<text x="${W / 2}" y="${35 + 2 * PANEL + 30 + 36}" font-size="12" text-anchor="middle">seconds since start</text>
${legend}
</svg>
`;
}
