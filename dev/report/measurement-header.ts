/**
 * The header every measurement command's JSON carries (report contract): the command line, when
 * it started, the commit measured, and the run id `npm run report` passed, so the report can
 * refuse figures from another run.
 */
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../cluster/host-fleet';

export interface MeasurementHeader {
  command: string;
  startedAt: string;
  commit: string;
  runId?: string;
}

/** `git rev-parse HEAD` of the checkout, or "unknown" outside git. */
export function currentCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** The header for `npm run <script>` with this process's own arguments. */
export function measurementHeader(script: string, runId: string | undefined): MeasurementHeader {
  const args = process.argv.slice(2);
  return {
    command: `npm run ${script}${args.length ? ` -- ${args.join(' ')}` : ''}`,
    startedAt: new Date().toISOString(),
    commit: currentCommit(),
    ...(runId === undefined ? {} : { runId }),
  };
}
