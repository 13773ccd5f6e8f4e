/**
 * Runs one existing measurement command (dev/bench.ts, dev/chaos.ts, ...) as a child
 * process through tsx, echoing its progress lines with a prefix and capturing its stdout. The
 * report never re-implements a measurement: it only runs the command and reads what it wrote.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../cluster/host-fleet';

export interface StepResult {
  stdout: string;
  seconds: number;
}

export interface RunStepOptions {
  /** Prefix of every echoed line, e.g. "bench". */
  name: string;
  /** Script path relative to the repository root, e.g. "dev/bench.ts". */
  script: string;
  args: string[];
  /** Echo the child's stdout as it comes too (stderr is always echoed). Default true. */
  echoStdout?: boolean;
  /** Exit codes that still count as success (chaos exits 1 when it finds violations). Default [0]. */
  okCodes?: number[];
}

let current: ReturnType<typeof spawn> | undefined;
/** Stops the running step, by its pid, when the report itself is interrupted. */
export function stopCurrentStep(): void {
  if (current?.pid && current.exitCode === null) current.kill('SIGTERM');
}

export function runStep({
  name,
  script,
  args,
  echoStdout = true,
  okCodes = [0],
}: RunStepOptions): Promise<StepResult> {
  const started = performance.now();
  const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  current = child;
  let stdout = '';
  let stderrTail = '';
  const echo = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) process.stderr.write(`  [${name}] ${line}\n`);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (echoStdout) echo(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
    echo(chunk);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      current = undefined;
      const seconds = (performance.now() - started) / 1000;
      if (code !== null && okCodes.includes(code)) resolve({ stdout, seconds });
      else {
        // A flag the command does not know yet: the branch that adds it has not landed.
        const unknown = /Unknown option '(--[\w-]+)'/.exec(stderrTail)?.[1];
        const why = unknown
          ? `${script} does not accept ${unknown} yet (the report contract's interface); it must land first`
          : `exited with ${code}`;
        reject(new Error(`${name} (${script} ${args.join(' ')}): ${why}`));
      }
    });
  });
}
