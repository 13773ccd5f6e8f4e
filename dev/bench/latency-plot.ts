/**
 * A small SVG line chart of latency (p50, p95, p99) against achieved throughput, one point per
 * offered-load level, with the naive baseline marked. Written without a plotting library: a few
 * paths and labels, readable in any browser or in the repository viewer.
 */

export interface PlotPoint {
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  label: string;
}

export interface PlotInput {
  title: string;
  points: PlotPoint[];
  baseline?: { throughput: number; p99: number };
}

const W = 760;
const H = 440;
const M = { left: 70, right: 150, top: 40, bottom: 55 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * exp).find((v) => v >= value) ?? value;
}

export function latencyPlot({ title, points, baseline }: PlotInput): string {
  const xMax = niceMax(Math.max(...points.map((p) => p.throughput), baseline?.throughput ?? 0) * 1.05);
  const yMax = niceMax(Math.max(...points.map((p) => p.p99), baseline?.p99 ?? 0, 1) * 1.05);
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const sorted = [...points].sort((a, b) => a.throughput - b.throughput);
  const series = [
    { key: 'p50' as const, color: '#2b7bb9' },
    { key: 'p95' as const, color: '#e69f00' },
    { key: 'p99' as const, color: '#c0392b' },
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const xv = (xMax * i) / 5;
    const yv = (yMax * i) / 5;
    parts.push(
      `<line x1="${x(xv)}" y1="${y(0)}" x2="${x(xv)}" y2="${y(yMax)}" stroke="#eee"/>`,
      `<text x="${x(xv)}" y="${y(0) + 18}" text-anchor="middle">${Math.round(xv)}</text>`,
      `<line x1="${x(0)}" y1="${y(yv)}" x2="${x(xMax)}" y2="${y(yv)}" stroke="#eee"/>`,
      `<text x="${x(0) - 8}" y="${y(yv) + 4}" text-anchor="end">${yv.toFixed(yMax < 10 ? 1 : 0)}</text>`,
    );
  }
  parts.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(xMax)}" y2="${y(0)}" stroke="black"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(yMax)}" stroke="black"/>`,
    `<text x="${(x(0) + x(xMax)) / 2}" y="${H - 12}" text-anchor="middle">achieved throughput (payments/s)</text>`,
    `<text transform="translate(18 ${(y(0) + y(yMax)) / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`,
  );
  series.forEach(({ key, color }, i) => {
    const d = sorted
      .map((p, j) => `${j ? 'L' : 'M'}${x(p.throughput).toFixed(1)},${y(p[key]).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of sorted)
      parts.push(`<circle cx="${x(p.throughput)}" cy="${y(p[key])}" r="3" fill="${color}"/>`);
    parts.push(
      `<line x1="${W - M.right + 15}" y1="${M.top + 20 * i}" x2="${W - M.right + 35}" y2="${M.top + 20 * i}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - M.right + 40}" y="${M.top + 20 * i + 4}">${key} end to end</text>`,
    );
  });
  for (const p of sorted) {
    parts.push(
      `<text x="${x(p.throughput)}" y="${y(p.p99) - 8}" text-anchor="middle" fill="#555">${esc(p.label)}</text>`,
    );
  }
  if (baseline) {
    parts.push(
      `<rect x="${x(baseline.throughput) - 4}" y="${y(baseline.p99) - 4}" width="8" height="8" fill="black"/>`,
      `<text x="${x(baseline.throughput) + 8}" y="${y(baseline.p99) + 4}">naive p99</text>`,
      `<rect x="${W - M.right + 21}" y="${M.top + 60 - 4}" width="8" height="8" fill="black"/>`,
      `<text x="${W - M.right + 40}" y="${M.top + 64}">naive baseline</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
