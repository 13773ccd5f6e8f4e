/**
 * Summarizes V8 .cpuprofile files (from `node --cpu-prof`, e.g. `npm run bench -- --profile`):
 * self time by function and by package, so the hot spots of a host show without a profiler UI.
 * Usage: npx tsx dev/bench/profile-summary.ts <dir or file> [--top N] [--skip-seconds S] [--until-seconds U]
 * (--skip-seconds leaves out start-up: module loading and compilation under tsx; --until-seconds
 * what follows, so that the window is one run of the bench.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: {
    top: { type: 'string' },
    'skip-seconds': { type: 'string' },
    'until-seconds': { type: 'string' },
  },
  allowPositionals: true,
});
const top = Number(values.top ?? 25);
const skipUs = Number(values['skip-seconds'] ?? 0) * 1e6;
const untilUs = Number(values['until-seconds'] ?? Number.POSITIVE_INFINITY) * 1e6;
const target = positionals[0];
if (!target) {
  console.error('usage: npx tsx dev/bench/profile-summary.ts <dir or .cpuprofile> [--top N]');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];

/** Where a frame's code comes from: a package, our own code, node itself, or the engine. */
function origin(url: string): string {
  if (!url) return '(engine/native)';
  if (url.startsWith('node:')) return 'node core';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1]!;
  return 'our code';
}

const byFunction = new Map<string, number>();
const byOrigin = new Map<string, number>();
let total = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const us = profile.timeDeltas[i] ?? 0;
    elapsed += us;
    if (elapsed < skipUs || elapsed > untilUs) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') return;
    total += us;
    const short = url
      .replace(/^.*node_modules\//, '')
      .replace(/^file:\/\/.*?\/(functions|ledger|coordination)\//, '$1/');
    const key = `${functionName || '(anonymous)'}  ${short}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byOrigin.set(origin(url), (byOrigin.get(origin(url)) ?? 0) + us);
  });
}
const rows = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => ({
      where: k,
      ms: Math.round(us / 1000),
      share: `${((us / total) * 100).toFixed(1)}%`,
    }));
console.log(`${files.length} profile(s), ${Math.round(total / 1000)} ms of non-idle samples`);
console.table(rows(byOrigin));
console.table(rows(byFunction));
