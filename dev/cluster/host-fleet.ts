/**
 * Function host processes on loopback, each a real `node --import tsx functions/host.ts`, for
 * `npm start` and for the cluster tests.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TlsFiles } from './certificates';
import { httpOk, ManagedProcess, waitFor } from './managed-process';
import type { ServerUser } from './postgres-server';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface HostSpec {
  id: string;
  port: number;
  /** Environment for this host only (e.g. its simulated clock offset), over the fleet's `env`. */
  env?: Record<string, string>;
}

export interface HostFleetOptions {
  hosts: HostSpec[];
  etcdEndpoints: string[];
  /** Directory for host logs (<dir>/<id>.log). */
  logDir: string;
  /** Address to bind. Default 127.0.0.1. */
  bind?: string;
  /** Extra environment for every host (see functions/config.ts). */
  env?: Record<string, string>;
  /** Extra node flags for every host, e.g. ['--cpu-prof'] (not allowed in NODE_OPTIONS). Default none. */
  nodeArgs?: string[];
  /** The hosts' etcd client certificate (user payments-host), for a secured cluster. Default none. */
  etcdTls?: TlsFiles;
  /**
   * Unix account the hosts run as, e.g. an unprivileged one when the launcher is root
   * (host-credentials.ts). Default the launcher's own.
   */
  account?: ServerUser;
}

/** Default host layout: h1..hN on ports 8081, 8082, … */
export function defaultHosts(count: number, firstPort = 8081): HostSpec[] {
  return Array.from({ length: count }, (_, i) => ({ id: `h${i + 1}`, port: firstPort + i }));
}

export class FunctionHost {
  constructor(
    readonly spec: HostSpec,
    readonly url: string,
    readonly process: ManagedProcess,
  ) {}

  get id(): string {
    return this.spec.id;
  }
}

/** What a started host must answer before it counts as up. */
export type WaitUntil = 'ready' | 'health';

export class HostFleet {
  readonly hosts: FunctionHost[];

  constructor({
    hosts,
    etcdEndpoints,
    logDir,
    bind = '127.0.0.1',
    env = {},
    nodeArgs = [],
    etcdTls,
    account,
  }: HostFleetOptions) {
    this.hosts = hosts.map((spec) => {
      const process = new ManagedProcess({
        name: `host ${spec.id}`,
        command: globalThis.process.execPath,
        args: [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, 'functions/host.ts')],
        cwd: REPO_ROOT,
        env: {
          ...globalThis.process.env,
          ...env,
          ...spec.env,
          HOST_ID: spec.id,
          HOST_PORT: String(spec.port),
          HOST_BIND: bind,
          ETCD_ENDPOINTS: etcdEndpoints.join(','),
          ...(etcdTls && {
            ETCD_CA_FILE: etcdTls.caFile,
            ETCD_CERT_FILE: etcdTls.certFile,
            ETCD_KEY_FILE: etcdTls.keyFile,
          }),
        },
        logFile: join(logDir, `${spec.id}.log`),
        uid: account?.uid,
        gid: account?.gid,
      });
      return new FunctionHost(spec, `http://${bind}:${spec.port}`, process);
    });
  }

  urls(): string[] {
    return this.hosts.map((h) => h.url);
  }

  host(id: string): FunctionHost {
    const host = this.hosts.find((h) => h.id === id);
    if (!host) throw new Error(`no host named ${id}`);
    return host;
  }

  /**
   * Starts every host and waits until each answers `until`: `ready` (the default: it reaches an
   * etcd quorum, is registered, and its clock is synchronized, so it takes payments) or `health`
   * (the process is up, e.g. when etcd is deliberately down).
   */
  async start(timeoutMs = 30_000, until: WaitUntil = 'ready'): Promise<void> {
    for (const h of this.hosts) h.process.start();
    await Promise.all(this.hosts.map((h) => this.waitUp(h, timeoutMs, until)));
  }

  async restart(id: string, timeoutMs = 30_000, until: WaitUntil = 'ready'): Promise<void> {
    const h = this.host(id);
    h.process.start();
    await this.waitUp(h, timeoutMs, until);
  }

  private waitUp(h: FunctionHost, timeoutMs: number, until: WaitUntil): Promise<void> {
    return waitFor(`${h.id} /${until}`, () => httpOk(`${h.url}/${until}`), timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.process.stop()));
  }
}
