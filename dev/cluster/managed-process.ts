/**
 * A child process this project started, and the registry of all of them. Every process is
 * stopped by pid when its owner asks, and SIGKILLed if the owner itself exits, so neither
 * `npm start` nor a failing test leaves an orphan etcd or host behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a plain kill by pid is.
  process.on('exit', () => {
    for (const p of live) {
      p.signal('SIGCONT');
      p.signal('SIGKILL');
    }
  });
}

export interface ManagedProcessOptions {
  /** Name used in logs and tables, e.g. `etcd n1` or `host h1`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** File that receives stdout and stderr. Default: inherit nothing (discard). */
  logFile?: string;
  /** Run as this user and group id (root only: PostgreSQL refuses to run as root). Default: ours. */
  uid?: number;
  gid?: number;
  /**
   * Signal `stop()` sends first. Default SIGTERM. PostgreSQL wants SIGINT (fast shutdown): on
   * SIGTERM it waits for every client to disconnect.
   */
  stopSignal?: NodeJS.Signals;
}

export class ManagedProcess {
  readonly name: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: ManagedProcessOptions) {
    this.name = options.name;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process (again, after a stop). */
  start(): void {
    if (this.running) return;
    installExitHook();
    const { command, args, cwd, env, logFile, uid, gid } = this.options;
    // The child writes its own log file: piping its output through this process cost the bench's
    // load generator (this process) CPU per payment for every log line of every host.
    const out = logFile ? openSync(logFile, 'a') : 'ignore';
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd, env, uid, gid, stdio: ['ignore', out, out] });
    } finally {
      if (typeof out === 'number') closeSync(out);
    }
    this.child = child;
    live.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(this);
        resolve();
      });
      child.once('error', () => {
        live.delete(this);
        resolve();
      });
    });
  }

  /** Sends a signal by pid; false when the process is not running. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running || !this.child?.pid) return false;
    try {
      process.kill(this.child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops gracefully with `stopSignal`, then SIGKILL after `graceMs`. Resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return this.exited;
    this.signal('SIGCONT'); // a paused process cannot handle SIGTERM
    this.signal(this.options.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Crashes the process with SIGKILL, as a power cut would. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** Freezes the process (SIGSTOP): it keeps its sockets open but answers nothing. */
  pause(): boolean {
    return this.signal('SIGSTOP');
  }

  resume(): boolean {
    return this.signal('SIGCONT');
  }

  /** Resolves when the process exits on its own. */
  whenExited(): Promise<void> {
    return this.exited;
  }
}

/** Polls `probe` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** GET a URL with a short timeout; true on a 2xx answer. */
export async function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  return response.ok;
}
