/**
 * The JSON a measurement command writes for `npm run report` (docs: the report contract, issue 19):
 * every file carries the command line, when it started, the commit measured, and the report run's
 * id when one was passed with `--run-id` (the report refuses a file from another run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface MeasurementHeader {
  command: string;
  startedAt: string;
  commit: string;
  runId?: string;
}

/**
 * The header of a measurement run: `npmCommand` (e.g. "npm run measure:time") and the flags it
 * was given, the current time, `git rev-parse HEAD` ("unknown" outside a checkout).
 */
export function measurementHeader(npmCommand: string, args: string[], runId?: string): MeasurementHeader {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the report shows "unknown"
  }
  return {
    command: args.length > 0 ? `${npmCommand} -- ${args.join(' ')}` : npmCommand,
    startedAt: new Date().toISOString(),
    commit,
    ...(runId !== undefined ? { runId } : {}),
  };
}

/** Writes `data` as indented JSON to `file`, creating its directory. */
export function writeMeasurementJson(file: string, data: object): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
