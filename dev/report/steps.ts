/**
 * The steps of `npm run report`: for each, the command it runs (always an existing measurement
 * command, never a re-implementation), its arguments in full and quick mode, the raw file(s) it
 * leaves in raw/, and a duration estimate for the progress line. Commands that cannot write the
 * contract's header themselves (chaos, measure:failover) get it stamped here, since the report
 * ran them within the run.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentCommit } from '../measure-output';
import { runStep } from './run-step';
import { ARCHIVAL_FILES, REDUNDANCY_MEMBERS } from './values';

export const STEPS = [
  'bench',
  'redundancy',
  'optimization',
  'storage',
  'clocks',
  'time',
  'elections',
  'failover',
  'partitions',
  'chaos',
  'shards',
  'dashboard',
] as const;
export type Step = (typeof STEPS)[number];

export interface Plan {
  /** Expected duration on a 2-core machine, seconds. */
  estimateS: number;
  run(): Promise<void>;
}

interface Context {
  quick: boolean;
  runId: string;
  rawDir: string;
  /** Scratch directory for the commands' own outputs. */
  work: string;
}

const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;
const npm = (script: string, args: string[]) => `npm run ${script} -- ${args.join(' ')}`;

/** Runs one command and writes its JSON output (from `--json FILE`) into raw/ as `file`. */
async function measured(name: string, script: string, args: string[], rawDir: string, file: string) {
  const out = join(rawDir, file);
  await runStep({ name, script, args: [...args, '--json', out] });
}

/** Stamps the contract's header on the output of a command that does not write it itself. */
function stamped(command: string, runId: string, startedAt: string, body: object) {
  return json({ command, startedAt, commit: currentCommit(), runId, ...body });
}

export function stepPlan(step: Step, { quick, runId, rawDir, work }: Context): Plan {
  const id = ['--run-id', runId];
  switch (step) {
    case 'bench': {
      const args = quick
        ? ['--quick', '--levels', '2000,max', '--repeat', '1']
        : ['--levels', '2000,max', '--repeat', '3'];
      return {
        estimateS: quick ? 90 : 300,
        async run() {
          const out = join(work, 'bench');
          await measured('bench', 'dev/bench.ts', [...args, '--out', out, ...id], rawDir, 'bench.json');
          copyFileSync(
            join(out, 'latency-vs-throughput.svg'),
            join(rawDir, 'bench-latency-vs-throughput.svg'),
          );
        },
      };
    }
    case 'redundancy':
      return {
        estimateS: quick ? 100 : 330,
        async run() {
          for (const n of REDUNDANCY_MEMBERS) {
            const args = ['--members', String(n), '--levels', 'max', '--skip-ceiling'];
            const timing = quick ? ['--seconds', '2', '--repeat', '1'] : ['--seconds', '5', '--repeat', '3'];
            await measured(
              `bench ${n} member(s)`,
              'dev/bench.ts',
              [...args, ...timing, '--out', join(work, `redundancy-${n}`), ...id],
              rawDir,
              `redundancy-m${n}.json`,
            );
          }
        },
      };
    case 'optimization': {
      const timing = quick ? ['--seconds', '2', '--repeat', '1'] : ['--repeat', '3'];
      return {
        estimateS: quick ? 30 : 120,
        run: () =>
          measured(
            'bench --no-batching',
            'dev/bench.ts',
            [
              ...['--levels', 'max', '--no-batching', '--skip-storage', '--skip-ceiling'],
              ...['--tag', 'no-batching', ...timing, '--out', join(work, 'no-batching'), ...id],
            ],
            rawDir,
            'bench-no-batching.json',
          ),
      };
    }
    case 'storage': {
      const files = quick ? ARCHIVAL_FILES.slice(0, 1) : ARCHIVAL_FILES;
      return {
        estimateS: quick ? 30 : 150,
        async run() {
          for (const [i, file] of files.entries())
            await measured(
              `archival ${i + 1}/${files.length}`,
              'dev/measure-archival.ts',
              [quick ? '1000' : '5000', ...id],
              rawDir,
              file,
            );
        },
      };
    }
    case 'clocks':
      return {
        estimateS: quick ? 40 : 100,
        run: () =>
          measured(
            'clocks',
            'dev/measure-clock-sync.ts',
            [...(quick ? ['--quick', '--payments', '60'] : []), ...id],
            rawDir,
            'clocks.json',
          ),
      };
    case 'time':
      return {
        estimateS: quick ? 90 : 240,
        run: () =>
          measured(
            'time',
            'dev/measure-time-accuracy.ts',
            [...(quick ? ['--quick'] : []), '--out', join(work, 'time-accuracy.md'), ...id],
            rawDir,
            'time.json',
          ),
      };
    case 'elections':
      return {
        estimateS: quick ? 30 : 120,
        run: () =>
          measured(
            'elections',
            'dev/measure-elections.ts',
            ['--kills', quick ? '5' : '20', ...id],
            rawDir,
            'elections.json',
          ),
      };
    case 'failover': {
      const args = quick ? ['--runs', '1', '--payments', '200'] : ['--runs', '3'];
      return {
        estimateS: quick ? 70 : 240,
        async run() {
          const startedAt = new Date().toISOString();
          const { stdout } = await runStep({
            name: 'failover',
            script: 'dev/measure-failover.ts',
            args,
            echoStdout: false,
          });
          const body = JSON.parse(stdout) as object;
          writeFileSync(
            join(rawDir, 'failover.json'),
            stamped(npm('measure:failover', args), runId, startedAt, body),
          );
        },
      };
    }
    case 'partitions':
      return {
        estimateS: quick ? 45 : 150,
        run: () =>
          measured(
            'partitions',
            'dev/measure-partitions.ts',
            ['--runs', quick ? '1' : '3', ...id],
            rawDir,
            'partitions.json',
          ),
      };
    case 'chaos': {
      const args = ['--duration', quick ? '45s' : '180s', '--seed', '42'];
      return {
        estimateS: quick ? 90 : 270,
        async run() {
          const out = join(work, 'chaos');
          const startedAt = new Date().toISOString();
          // Exit code 1 means the checker found violations: still a result the report must show.
          await runStep({
            name: 'chaos',
            script: 'dev/chaos.ts',
            args: [...args, '--out', out],
            okCodes: [0, 1],
          });
          const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as object;
          writeFileSync(join(rawDir, 'chaos.json'), stamped(npm('chaos', args), runId, startedAt, summary));
          copyFileSync(join(out, 'timeline.svg'), join(rawDir, 'chaos-timeline.svg'));
        },
      };
    }
    case 'shards':
      return {
        estimateS: quick ? 25 : 90,
        run: () =>
          runStep({
            name: 'shards',
            script: 'dev/report/measure-shards.ts',
            args: [
              ...['--out', join(rawDir, 'shards.json'), '--seconds', quick ? '2' : '8'],
              ...['--repeat', quick ? '1' : '3', ...id],
            ],
          }).then(() => undefined),
      };
    case 'dashboard':
      // The dashboard under a bounded load, screenshot with its charts filled (PNG + JSON sidecar).
      return {
        estimateS: quick ? 40 : 60,
        run: () =>
          runStep({
            name: 'dashboard',
            script: 'dev/capture-dashboard.ts',
            args: [...['--out', join(rawDir, 'dashboard.png'), ...id], ...(quick ? ['--seconds', '10'] : [])],
          }).then(() => undefined),
      };
  }
}
