/**
 * The JSON a measurement command writes for `npm run report` (dev/report/CONTRACT.md): every file
 * carries the command line, when it started, the commit measured, and the report run's id when one
 * was passed with `--run-id` (the report refuses a file from another run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { REPO_ROOT } from './cluster/host-fleet';

export interface MeasurementHeader {
  command: string;
  startedAt: string;
  commit: string;
  runId?: string;
}

/** `git rev-parse HEAD` of the checkout, or "unknown" outside git. */
export function currentCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * The header of a measurement run of `npm run <script>` (e.g. "measure:time") with `args` (default:
 * this process's own arguments), the current time and commit, and `runId` only when one was given.
 */
export function measurementHeader(
  script: string,
  runId: string | undefined,
  args: readonly string[] = process.argv.slice(2),
): MeasurementHeader {
  return {
    command: `npm run ${script}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    startedAt: new Date().toISOString(),
    commit: currentCommit(),
    ...(runId === undefined ? {} : { runId }),
  };
}

/** Writes `data` as indented JSON to `file`, creating its directory. */
export function writeMeasurementJson(file: string, data: object): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
