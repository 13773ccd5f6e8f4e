/**
 * `npm run report`: one run of every measurement the report quotes, on the current code, then
 * docs/generated/report.md and slides.md filled from it. The run has one id (start time + short
 * commit) that every command copies into its JSON (`--run-id`); raw outputs are kept in
 * docs/generated/report-figures/raw/ and rendering refuses any file of another run
 * (dev/report/raw-files.ts). The machine, and the load average sampled before and after each
 * step, are recorded beside the figures. Progress lines give elapsed and remaining time.
 *
 *   --quick          short runs (about 5–8 minutes on 2 cores); figures are rough, often 1 sample
 *   --render-only    re-render values.json, the figures and the documents from raw/
 *   --only LIST      re-measure only these steps, within the run already in raw/ (same run id)
 *   --raw DIR        raw outputs (default docs/generated/report-figures/raw)
 *   --out DIR        where report.md, slides.md and report-figures/ go (default docs/generated)
 *   --templates DIR  report.template.md and slides.template.md (default dev/report/templates)
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './cluster/host-fleet';
import { currentCommit } from './measure-output';
import { currentMachine, describeMachine } from './report/machine';
import { dashboardSchema, readRaw } from './report/raw-files';
import { DOCUMENTS, readRunInfo, renderRun } from './report/render';
import { stopCurrentStep } from './report/run-step';
import { type Plan, STEPS, type Step, stepPlan } from './report/steps';
import type { RunInfo } from './report/values';

const HELP = `Usage: npm run report -- [--quick] [--render-only] [--only LIST] [--raw DIR] [--out DIR]

  --quick          short runs (about 5–8 minutes on 2 cores); figures are rough
  --render-only    re-render values.json, figures, report.md and slides.md from raw/
  --only LIST      re-measure only these steps, keeping the run id of raw/run.json:
                   ${STEPS.join(',')}
  --raw DIR        raw outputs                     default docs/generated/report-figures/raw
  --out DIR        documents and report-figures/   default docs/generated
  --templates DIR  the two templates               default dev/report/templates
  --help           this text`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'render-only': { type: 'boolean' },
    only: { type: 'string' },
    raw: { type: 'string' },
    out: { type: 'string' },
    templates: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const quick = flags.quick ?? false;
const only = flags.only?.split(',').map((s) => s.trim());
for (const s of only ?? [])
  if (!(STEPS as readonly string[]).includes(s)) {
    console.error(`unknown step ${s}; steps: ${STEPS.join(',')}`);
    process.exit(2);
  }
const selected: Step[] = flags['render-only'] ? [] : ((only as Step[] | undefined) ?? [...STEPS]);
const outDir = resolve(REPO_ROOT, flags.out ?? join('docs', 'generated'));
const figuresDir = join(outDir, 'report-figures');
const rawDir = resolve(REPO_ROOT, flags.raw ?? join('docs', 'generated', 'report-figures', 'raw'));
mkdirSync(rawDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'payments-report-'));
const started = Date.now();
const clock = (ms: number) =>
  `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
const log = (line: string) =>
  process.stderr.write(
    `[report ${new Date().toISOString().slice(11, 19)} +${clock(Date.now() - started)}] ${line}\n`,
  );
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    stopCurrentStep();
    process.exit(130);
  });

/** A new run, or (with --only) the run already in raw/, continued. */
function startRun(): RunInfo {
  const commit = currentCommit();
  const now = new Date();
  if (only && existsSync(join(rawDir, 'run.json'))) {
    const run = readRunInfo(rawDir);
    if (run.commit !== commit)
      throw new Error(
        `raw/ holds run ${run.runId} of commit ${run.commit}; this is ${commit}: make a full run`,
      );
    return {
      ...run,
      mode: `${run.mode}; re-measured ${now.toISOString().slice(0, 16)}: ${selected.join(', ')}`,
    };
  }
  if (only) throw new Error('--only continues the run in raw/, and there is none: make a full run first');
  // A new run starts from an empty raw/, so no output of an older run can stay beside it.
  for (const f of readdirSync(rawDir)) rmSync(join(rawDir, f), { recursive: true, force: true });
  return {
    runId: `${now.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z-${commit.slice(0, 7)}`,
    commit,
    startedAt: now.toISOString(),
    machine: describeMachine(currentMachine(now)),
    loadAvg: [],
    minutes: 0,
    mode: quick ? 'quick (short runs; rough figures, often one sample each)' : 'full',
  };
}

try {
  if (selected.length > 0) {
    const run = startRun();
    log(`run ${run.runId}: ${run.machine}`);
    const plans = selected.map(
      (step) => [step, stepPlan(step, { quick, runId: run.runId, rawDir, work })] as const,
    );
    const estimate = (list: (readonly [Step, Plan])[]) => list.reduce((s, [, p]) => s + p.estimateS, 0);
    log(
      `plan: ${selected.join(' → ')}${quick ? ' (quick)' : ''}; estimated ${clock(1000 * estimate(plans))}`,
    );
    const failed: string[] = [];
    let spentS = 0;
    let estimatedSoFar = 0;
    for (const [i, [step, plan]] of plans.entries()) {
      // Remaining time: the estimates left, scaled by how the finished steps compared with theirs.
      const pace = estimatedSoFar > 0 ? spentS / estimatedSoFar : 1;
      run.loadAvg.push(loadavg()[0]!);
      log(
        `step ${i + 1}/${plans.length} ${step}: running (load ${loadavg()[0]!.toFixed(2)}; about ${clock(1000 * pace * estimate(plans.slice(i)))} left)`,
      );
      const t = performance.now();
      let ok = true;
      try {
        await plan.run();
      } catch (error) {
        ok = false;
        failed.push(`${step}: ${(error as Error).message}`);
        log(`step ${i + 1}/${plans.length} ${step}: FAILED: ${(error as Error).message}`);
      }
      const s = (performance.now() - t) / 1000;
      // A step that failed early says nothing about the pace of the others.
      if (ok) {
        spentS += s;
        estimatedSoFar += plan.estimateS;
      }
      run.loadAvg.push(loadavg()[0]!);
      log(
        `step ${i + 1}/${plans.length} ${step}: done in ${clock(1000 * s)} (load ${loadavg()[0]!.toFixed(2)})`,
      );
    }
    run.minutes += (Date.now() - started) / 60_000;
    writeFileSync(join(rawDir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
    if (failed.length > 0) {
      log(`not rendered: ${failed.length} step(s) failed:\n  ${failed.join('\n  ')}`);
      log(`re-run them with --only ${failed.map((f) => f.slice(0, f.indexOf(':'))).join(',')}`);
      process.exitCode = 1;
    }
  }
  if (!process.exitCode) {
    const { values, figures, documents } = renderRun(
      rawDir,
      resolve(REPO_ROOT, flags.templates ?? join('dev', 'report', 'templates')),
    );
    mkdirSync(figuresDir, { recursive: true });
    writeFileSync(join(figuresDir, 'values.json'), `${JSON.stringify(values, null, 2)}\n`);
    for (const [name, svg] of Object.entries(figures)) writeFileSync(join(figuresDir, name), svg);
    for (const doc of DOCUMENTS) writeFileSync(join(outDir, `${doc}.md`), documents[doc]);
    // The dashboard screenshot is a PNG, copied rather than rendered; its sidecar says which run took it.
    if (existsSync(join(rawDir, 'dashboard.png'))) {
      readRaw(rawDir, 'dashboard.json', dashboardSchema, values['run.id'] as string);
      copyFileSync(join(rawDir, 'dashboard.png'), join(figuresDir, 'dashboard.png'));
    }
    log(
      `run ${values['run.id']}: wrote ${figuresDir}/values.json, ${Object.keys(figures).join(', ')}, report.md, slides.md`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);
