/**
 * How `payctl` reaches the cluster that `npm start` runs: a state file in the data directory
 * (`cluster-state.json`: every member's and host's pid, ports and URLs, kept current as processes
 * exit and restart) and a small control endpoint on loopback that restarts a stopped process
 * through the same ManagedProcess that started it, so Ctrl-C on `npm start` still stops it.
 * Killing needs no endpoint: payctl signals the pid from the state file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { EtcdCluster } from './etcd-cluster';
import type { HostFleet } from './host-fleet';
import type { ManagedProcess } from './managed-process';

export const STATE_FILE_NAME = 'cluster-state.json';

export interface ProcessState {
  /** etcd member name (n1…) or host id (h1…). */
  name: string;
  kind: 'member' | 'host';
  pid: number | null;
  running: boolean;
  /** Client URL of a member, base URL of a host. */
  url: string;
  /** Peer URL of a member (replace-member re-adds it there). */
  peerUrl?: string;
  logFile: string;
}

export interface LocalClusterState {
  version: 1;
  /** Pid of the `npm start` process that owns everything below. */
  supervisorPid: number;
  /** POST {controlUrl}/restart/{name} restarts a stopped member or host. */
  controlUrl: string;
  dataDir: string;
  etcdEndpoints: string[];
  /**
   * Paths of etcd's root credential (CA, certificate, key) of a secured local cluster, for the
   * operator steps that need the root role (`payctl maintain`). Absent for plain or external etcd.
   */
  etcdRootCredentials?: EtcdRootCredentialFiles;
  processes: ProcessState[];
}

export interface EtcdRootCredentialFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface LocalControlOptions {
  etcd: EtcdCluster | undefined;
  fleet: HostFleet;
  dataDir: string;
  /** etcd client URLs (the external ones in single-host mode). */
  etcdEndpoints: string[];
  /** Where the root credential's files are, when the launcher holds them. Default none. */
  etcdRootCredentials?: EtcdRootCredentialFiles;
}

export interface LocalControl {
  statePath: string;
  close(): void;
}

interface Managed {
  name: string;
  kind: 'member' | 'host';
  url: string;
  peerUrl?: string;
  process: ManagedProcess;
  restart: () => Promise<void>;
}

export async function startLocalControl({
  etcd,
  fleet,
  dataDir,
  etcdEndpoints,
  etcdRootCredentials,
}: LocalControlOptions): Promise<LocalControl> {
  const managed: Managed[] = [
    ...(etcd?.members ?? []).map((m) => ({
      name: m.name,
      kind: 'member' as const,
      url: m.clientUrl,
      peerUrl: m.peerUrl,
      process: m.process,
      restart: () => etcd!.restartMember(m.name),
    })),
    ...fleet.hosts.map((h) => ({
      name: h.id,
      kind: 'host' as const,
      url: h.url,
      process: h.process,
      restart: () => fleet.restart(h.id),
    })),
  ];
  const statePath = join(dataDir, STATE_FILE_NAME);
  let controlUrl = '';

  let closed = false;
  const writeState = () => {
    if (closed) return; // processes exiting during shutdown must not bring the file back
    const state: LocalClusterState = {
      version: 1,
      supervisorPid: process.pid,
      controlUrl,
      dataDir,
      etcdEndpoints,
      ...(etcdRootCredentials && { etcdRootCredentials }),
      processes: managed.map((m) => ({
        name: m.name,
        kind: m.kind,
        pid: m.process.pid ?? null,
        running: m.process.running,
        url: m.url,
        ...(m.peerUrl ? { peerUrl: m.peerUrl } : {}),
        logFile: join(dataDir, `${m.name}.log`),
      })),
    };
    // Write-then-rename, so a reader never sees half a file.
    writeFileSync(`${statePath}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${statePath}.tmp`, statePath);
  };
  const watchExit = (m: Managed) => void m.process.whenExited().then(writeState);

  const app = new Hono();
  app.post('/restart/:name', async (c) => {
    const m = managed.find((x) => x.name === c.req.param('name'));
    if (!m) return c.json({ error: `no member or host named ${c.req.param('name')}` }, 404);
    if (m.process.running) return c.json({ error: `${m.name} is already running`, pid: m.process.pid }, 409);
    try {
      await m.restart();
    } catch (error) {
      writeState();
      return c.json({ error: `${m.name} did not come back: ${(error as Error).message}` }, 500);
    }
    watchExit(m);
    writeState();
    return c.json({ name: m.name, pid: m.process.pid, url: m.url });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  controlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeState();
  for (const m of managed) watchExit(m);
  return {
    statePath,
    close: () => {
      closed = true;
      server.close();
      rmSync(statePath, { force: true });
    },
  };
}
