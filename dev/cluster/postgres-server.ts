/**
 * One local PostgreSQL server: initdb, start, stop, kill, promote, on loopback only.
 *
 * PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` user (spawned
 * with its uid and gid, so the pid we hold is the postmaster's own): the data directory is 0700
 * and theirs, and every directory above it must be traversable by them (serverUser, below).
 * The server runs in the foreground under ManagedProcess, stopped with SIGINT (fast shutdown:
 * SIGTERM would wait for every client to leave). A postmaster left behind by a launcher that was
 * itself killed is stopped through its postmaster.pid before starting again.
 *
 * fsync and synchronous_commit are on, explicitly: the archive must be no less durable than etcd.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, waitFor } from './managed-process';

const run = promisify(execFile);

/** Who runs a server: an unprivileged user when we are root, else we ourselves (undefined). */
export interface ServerUser {
  uid: number;
  gid: number;
}

/** `name`'s ids when we are root (PostgreSQL's `postgres`; function hosts use `nobody`), else undefined. */
export function serverUser(name = 'postgres'): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, name]).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Lets the server user pass through every directory above `dir` (mkdtemp makes them 0700). */
export function makeTraversable(dir: string): void {
  for (let up = dirname(dir); up !== dirname(up); up = dirname(up)) {
    const current = statSync(up).mode & 0o777;
    if ((current & 0o001) === 0) chmodSync(up, current | 0o001);
  }
}

/** Creates `dir` (and parents) for the server user: theirs, 0700, reachable. */
export function serverDir(dir: string, user: ServerUser | undefined): void {
  mkdirSync(dir, { recursive: true });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    makeTraversable(dir);
  }
  chmodSync(dir, 0o700);
}

export interface PostgresServerOptions {
  /** Name in logs and tables, and the application_name it replicates under, e.g. `pg1`. */
  name: string;
  /** Directory of initdb, postgres, pg_basebackup, pg_isready (ensure-postgres.ts). */
  binDir: string;
  /** Data directory (PGDATA); its socket lives there too (`-k`). */
  dataDir: string;
  port: number;
  /** Default 127.0.0.1. */
  bind?: string;
  /** stdout and stderr of the server. Default <dataDir>.log. */
  logFile?: string;
  /** Extra `-c name=value` settings. Default none. */
  settings?: Record<string, string>;
}

export class PostgresServer {
  readonly process: ManagedProcess;
  readonly user = serverUser();

  constructor(private readonly options: PostgresServerOptions) {
    const {
      name,
      binDir,
      dataDir,
      port,
      bind = '127.0.0.1',
      logFile = `${dataDir}.log`,
      settings = {},
    } = options;
    const all: Record<string, string> = {
      listen_addresses: bind,
      port: String(port),
      unix_socket_directories: dataDir,
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      wal_level: 'replica',
      max_wal_senders: '4',
      max_replication_slots: '4',
      hot_standby: 'on',
      shared_buffers: '32MB',
      ...settings,
    };
    this.process = new ManagedProcess({
      name: `postgres ${name}`,
      command: join(binDir, 'postgres'),
      args: ['-D', dataDir, ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      logFile,
      uid: this.user?.uid,
      gid: this.user?.gid,
      stopSignal: 'SIGINT',
    });
  }

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.options.port;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get initialised(): boolean {
    return existsSync(join(this.options.dataDir, 'PG_VERSION'));
  }

  /** True while the data directory says it is a standby (standby.signal). */
  get standby(): boolean {
    return existsSync(join(this.options.dataDir, 'standby.signal'));
  }

  /** Runs a PostgreSQL binary as the server user; throws with its output when it fails. */
  tool(binary: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
    const result = spawnSync(join(this.options.binDir, binary), args, {
      uid: this.user?.uid,
      gid: this.user?.gid,
      env: { ...process.env, ...env },
      cwd: '/',
      encoding: 'utf8',
    });
    if (result.status !== 0)
      throw new Error(
        `${binary} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`,
      );
  }

  /**
   * A fresh cluster: superuser `postgres` with this password, scram-sha-256 over TCP (initdb's
   * default pg_hba.conf then also admits replication connections from loopback).
   */
  initdb(superuserPassword: string, { noSync = false }: { noSync?: boolean } = {}): void {
    const { dataDir } = this.options;
    serverDir(dataDir, this.user);
    const pwFile = `${dataDir}.pw`;
    writeFileSync(pwFile, `${superuserPassword}\n`, { mode: 0o600 });
    if (this.user) chownSync(pwFile, this.user.uid, this.user.gid);
    try {
      this.tool(
        'initdb',
        [
          ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C'],
          ['--auth-local=peer', '--auth-host=scram-sha-256', `--pwfile=${pwFile}`],
          noSync ? ['--no-sync'] : [],
        ].flat(),
      );
    } finally {
      rmSync(pwFile, { force: true });
    }
  }

  /** Starts the server and waits until it accepts connections (a standby: until it is consistent). */
  async start(timeoutMs = 30_000): Promise<void> {
    await this.stopLeftover();
    this.process.start();
    await waitFor(`${this.name} accepting connections`, () => this.accepting(), timeoutMs);
  }

  async accepting(): Promise<boolean> {
    if (!this.process.running)
      throw new Error(`${this.name} exited; see ${this.options.logFile ?? `${this.dataDir}.log`}`);
    const isReady = join(this.options.binDir, 'pg_isready');
    return run(isReady, ['-q', '-h', '127.0.0.1', '-p', String(this.port)]).then(
      () => true,
      () => false,
    );
  }

  /** Fast shutdown: open sessions are ended, every commit already confirmed stays. */
  stop(): Promise<void> {
    return this.process.stop(10_000);
  }

  /** SIGKILL, as a crash would: PostgreSQL recovers from its WAL on the next start. */
  kill(): Promise<void> {
    return this.process.kill();
  }

  /**
   * A postmaster still running on this data directory that we did not start (our launcher was
   * killed before it could stop it): stopped by the pid on the first line of postmaster.pid, when
   * that process really is a postgres on this directory.
   */
  private async stopLeftover(): Promise<void> {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    if (this.process.running || !existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (
      !Number.isInteger(pid) ||
      pid <= 0 ||
      !cmdline.includes('postgres') ||
      !cmdline.includes(this.dataDir)
    )
      return; // stale file from a crash: postgres itself discards it
    process.kill(pid, 'SIGINT');
    await waitFor(`leftover postgres ${pid} to stop`, async () => !existsSync(`/proc/${pid}`), 15_000);
  }
}
