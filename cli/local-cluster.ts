/**
 * payctl's view of the cluster `npm start` runs on this machine, from the state file it keeps
 * (dev/cluster/local-control.ts). Kill signals a pid from that file, after checking the pid
 * still belongs to the process the file names; restart asks `npm start` to restart it, so the
 * restarted process stays under the supervisor that Ctrl-C stops.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalClusterState, type ProcessState, STATE_FILE_NAME } from '../dev/cluster/local-control';
import { CliError, EXIT_CODES } from './errors';

export function readLocalState(dataDir: string): LocalClusterState | undefined {
  try {
    const state = JSON.parse(readFileSync(join(dataDir, STATE_FILE_NAME), 'utf8')) as LocalClusterState;
    return state.version === 1 && isAlive(state.supervisorPid) ? state : undefined;
  } catch {
    return undefined;
  }
}

export function requireLocalState(dataDir: string): LocalClusterState {
  const state = readLocalState(dataDir);
  if (!state) {
    throw new CliError(
      `no local cluster in ${dataDir}: start one with \`npm start\` (or pass --data-dir)`,
      EXIT_CODES.noLocalCluster,
    );
  }
  return state;
}

export function findProcess(state: LocalClusterState, name: string): ProcessState {
  const p = state.processes.find((x) => x.name === name);
  if (!p) {
    const names = state.processes.map((x) => x.name).join(', ');
    throw new CliError(`no member or host named ${name}; this cluster has ${names}`, EXIT_CODES.notFound);
  }
  return p;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards against a recycled pid: the process must still be the etcd or host the file names. */
function looksLike(p: ProcessState): boolean {
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ');
    return p.kind === 'member'
      ? cmdline.includes('etcd') && cmdline.includes(`--name ${p.name}`)
      : cmdline.includes('functions/host.ts');
  } catch {
    return false;
  }
}

export interface KillResult {
  name: string;
  kind: ProcessState['kind'];
  pid: number;
  signal: NodeJS.Signals;
}

/** Throws unless `p` runs under the pid the state file records (not recycled); returns that pid. */
export function runningPid(p: ProcessState): number {
  if (!p.running || p.pid === null || !isAlive(p.pid)) {
    throw new CliError(`${p.name} is not running`, EXIT_CODES.refused);
  }
  if (!looksLike(p)) {
    throw new CliError(
      `pid ${p.pid} is no longer ${p.name}; the state file is stale`,
      EXIT_CODES.noLocalCluster,
    );
  }
  return p.pid;
}

/** Signals the process and waits (up to `timeoutMs`) until it has exited. */
export async function killProcess(
  p: ProcessState,
  signal: NodeJS.Signals,
  timeoutMs = 10_000,
): Promise<KillResult> {
  const pid = runningPid(p);
  process.kill(pid, 'SIGCONT'); // a paused process cannot act on SIGTERM
  process.kill(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      throw new CliError(
        `${p.name} (pid ${pid}) still running ${timeoutMs} ms after ${signal}`,
        EXIT_CODES.unavailable,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: p.name, kind: p.kind, pid, signal };
}

export interface RestartResult {
  name: string;
  pid: number;
  url: string;
}

/** Asks the supervisor to restart a stopped process; resolves once it is healthy again. */
export async function restartProcess(state: LocalClusterState, p: ProcessState): Promise<RestartResult> {
  let response: Response;
  try {
    response = await fetch(`${state.controlUrl}/restart/${encodeURIComponent(p.name)}`, {
      method: 'POST',
      signal: AbortSignal.timeout(60_000),
    });
  } catch (cause) {
    throw new CliError(
      `the npm start supervisor (pid ${state.supervisorPid}) did not answer`,
      EXIT_CODES.unavailable,
      {
        cause,
      },
    );
  }
  const body = (await response.json()) as RestartResult & { error?: string };
  if (response.status === 409)
    throw new CliError(body.error ?? `${p.name} is already running`, EXIT_CODES.refused);
  if (!response.ok)
    throw new CliError(body.error ?? `restart failed: HTTP ${response.status}`, EXIT_CODES.unavailable);
  return body;
}
