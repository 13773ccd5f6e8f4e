/**
 * `npm run report`: re-runs the measurements docs/generated/report.md quotes, by invoking the existing
 * commands (bench, chaos, measure:clocks, measure:failover) and the sharding measurement, keeps
 * their raw outputs in docs/generated/report-figures/raw/, renders the tables and plots under
 * docs/generated/report-figures/, and fills dev/report/templates/report.template.md → docs/generated/report.md and
 * dev/report/templates/slides.template.md → docs/generated/slides.md. Every figure carries the machine it was measured on.
 *
 *   --quick          short runs (the whole report in about 5 minutes on 2 cores); figures are rough
 *   --render-only    re-render tables and documents from the raw outputs already in raw/
 *   --only LIST      measure only these steps (bench,optimization,clocks,failover,chaos,shards);
 *                    the others keep their previous raw outputs
 *   --help           this text
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './cluster/host-fleet';
import { renderFigures } from './report/figures';
import { currentMachine, describeMachine, type Machine } from './report/machine';
import { runStep, stopCurrentStep } from './report/run-step';
import { captionSvg } from './report/svg-caption';
import { fillTemplate } from './report/template';

const HELP = `Usage: npm run report -- [--quick] [--render-only] [--only LIST]

  --quick          short runs (about 5 minutes on 2 cores); figures are rough
  --render-only    re-render docs/generated/report-figures/*.md and docs/generated/report.md, docs/generated/slides.md from raw/
  --only LIST      measure only these steps: bench,optimization,clocks,failover,chaos,shards
  --help           this text`;

const STEPS = ['bench', 'optimization', 'clocks', 'failover', 'chaos', 'shards'] as const;
type Step = (typeof STEPS)[number];

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'render-only': { type: 'boolean' },
    only: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const quick = flags.quick ?? false;
const only = flags.only?.split(',').map((s) => s.trim()) ?? [...STEPS];
for (const s of only)
  if (!(STEPS as readonly string[]).includes(s)) {
    console.error(`unknown step ${s}; steps: ${STEPS.join(',')}`);
    process.exit(2);
  }
const selected = flags['render-only'] ? [] : (only as Step[]);

const figuresDir = join(REPO_ROOT, 'docs', 'generated', 'report-figures');
const rawDir = join(figuresDir, 'raw');
mkdirSync(rawDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'payments-report-'));
const log = (line: string) =>
  process.stderr.write(`[report ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    stopCurrentStep();
    process.exit(130);
  });

const newest = (dir: string, prefix: string, ext: string) => {
  const name = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(ext))
    .sort()
    .at(-1);
  if (!name) throw new Error(`no ${prefix}*${ext} in ${dir}`);
  return join(dir, name);
};

/** Each step: the command it runs and where its output is kept. Durations per mode in the args. */
const plan: Record<Step, () => Promise<void>> = {
  bench: async () => {
    const out = join(work, 'bench');
    await runStep({
      name: 'bench',
      script: 'dev/bench.ts',
      args: quick ? ['--quick', '--out', out] : ['--out', out],
    });
    copyFileSync(newest(out, 'bench-', '.json'), join(rawDir, 'bench.json'));
    copyFileSync(join(out, 'latency-vs-throughput.svg'), join(rawDir, 'bench-latency-vs-throughput.svg'));
  },
  optimization: async () => {
    // The same hosts at maximum load without group commit: the "before" of the optimization.
    const out = join(work, 'bench-no-batching');
    const seconds = quick ? ['--seconds', '3'] : [];
    await runStep({
      name: 'bench --no-batching',
      script: 'dev/bench.ts',
      args: [
        '--levels',
        'max',
        '--no-batching',
        '--skip-storage',
        '--tag',
        'no-batching',
        '--out',
        out,
        ...seconds,
      ],
    });
    copyFileSync(newest(out, 'bench-', '.json'), join(rawDir, 'bench-no-batching.json'));
  },
  clocks: async () => {
    const { stdout } = await runStep({
      name: 'clocks',
      script: 'dev/measure-clock-sync.ts',
      args: quick ? ['--quick', '--payments', '150'] : [],
    });
    writeFileSync(join(rawDir, 'clocks.md'), stdout);
  },
  failover: async () => {
    const { stdout } = await runStep({
      name: 'failover',
      script: 'dev/measure-failover.ts',
      args: quick ? ['--runs', '1', '--payments', '200'] : ['--runs', '3'],
      echoStdout: false,
    });
    writeFileSync(join(rawDir, 'failover.json'), `${JSON.stringify(JSON.parse(stdout), null, 2)}\n`);
  },
  chaos: async () => {
    const out = join(work, 'chaos');
    // Exit code 1 means the checker found violations: still a result the report must show.
    await runStep({
      name: 'chaos',
      script: 'dev/chaos.ts',
      args: ['--duration', quick ? '45s' : '180s', '--seed', '42', '--out', out],
      okCodes: [0, 1],
    });
    copyFileSync(join(out, 'summary.json'), join(rawDir, 'chaos-summary.json'));
    copyFileSync(join(out, 'timeline.svg'), join(rawDir, 'chaos-timeline.svg'));
  },
  shards: async () => {
    await runStep({
      name: 'shards',
      script: 'dev/report/measure-shards.ts',
      args: ['--out', join(rawDir, 'shards.json'), '--seconds', quick ? '4' : '10'],
    });
  },
};

let machine: Machine;
try {
  if (selected.length > 0) {
    machine = currentMachine(new Date());
    writeFileSync(join(rawDir, 'machine.json'), `${JSON.stringify(machine, null, 2)}\n`);
  } else machine = JSON.parse(readFileSync(join(rawDir, 'machine.json'), 'utf8')) as Machine;
  log(`machine: ${describeMachine(machine)}`);
  log(`plan: ${selected.length ? selected.join(' → ') : 'render only'}${quick ? ' (quick)' : ''}`);
  for (const [i, step] of selected.entries()) {
    const started = performance.now();
    log(`step ${i + 1}/${selected.length}: ${step} — running`);
    await plan[step]();
    log(
      `step ${i + 1}/${selected.length}: ${step} — done in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  }

  const machineLine = describeMachine(machine);
  const { fragments, values } = renderFigures(rawDir, machineLine, machine.cores);
  // The mode of the last measuring run, so a re-render still says how the figures were made.
  const modeFile = join(rawDir, 'mode.txt');
  if (selected.length > 0) {
    const mode = quick ? 'quick (short runs; rough figures)' : 'full';
    const partial = selected.length < STEPS.length ? `; last re-measured: ${selected.join(', ')}` : '';
    writeFileSync(modeFile, `${mode}${partial}\n`);
  }
  values.mode = readFileSync(modeFile, 'utf8').trim();
  for (const [name, md] of Object.entries(fragments)) writeFileSync(join(figuresDir, name), md);
  for (const svg of ['bench-latency-vs-throughput.svg', 'chaos-timeline.svg'])
    writeFileSync(
      join(figuresDir, svg),
      captionSvg(readFileSync(join(rawDir, svg), 'utf8'), `Machine: ${machineLine}`),
    );
  writeFileSync(join(figuresDir, 'values.json'), `${JSON.stringify(values, null, 2)}\n`);
  const withTables: Record<string, string | number> = { ...values };
  for (const [name, md] of Object.entries(fragments))
    withTables[`table.${name.replace(/\.md$/, '')}`] = md.trimEnd();
  for (const doc of ['report', 'slides']) {
    const template = readFileSync(
      join(REPO_ROOT, 'dev', 'report', 'templates', `${doc}.template.md`),
      'utf8',
    );
    const banner = `<!-- Generated by npm run report from dev/report/templates/${doc}.template.md and docs/generated/report-figures/; edit the template. -->\n`;
    const filled = fillTemplate(template, withTables);
    // Keep a Marp front matter first in the file; the banner goes right after it.
    const frontMatter = /^---\n[\s\S]*?\n---\n/.exec(filled)?.[0] ?? '';
    writeFileSync(
      join(REPO_ROOT, 'docs', 'generated', `${doc}.md`),
      frontMatter + banner + filled.slice(frontMatter.length),
    );
  }
  log(
    `wrote docs/generated/report-figures/*.md, values.json, docs/generated/report.md, docs/generated/slides.md`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
