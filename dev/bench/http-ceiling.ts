/**
 * Starts the bench's HTTP ceiling servers (dev/bench/http-ceiling-server.ts), one process per
 * host, on free loopback ports, exactly as the hosts are started (node --import tsx).
 */
import { join } from 'node:path';
import { freePort } from '../cluster/free-port';
import { REPO_ROOT } from '../cluster/host-fleet';
import { httpOk, ManagedProcess, waitFor } from '../cluster/managed-process';

export interface CeilingServers {
  urls: string[];
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

export async function startCeilingServers(count: number, nodeArgs: string[] = []): Promise<CeilingServers> {
  const servers: { url: string; process: ManagedProcess }[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const process = new ManagedProcess({
      name: `http ceiling ${i + 1}`,
      command: globalThis.process.execPath,
      args: [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, 'dev/bench/http-ceiling-server.ts')],
      cwd: REPO_ROOT,
      env: { ...globalThis.process.env, PORT: String(port) },
    });
    process.start();
    servers.push({ url: `http://127.0.0.1:${port}`, process });
  }
  const stop = async () => {
    await Promise.all(servers.map((s) => s.process.stop()));
  };
  try {
    await Promise.all(
      servers.map((s) => waitFor(`${s.url}/health`, () => httpOk(`${s.url}/health`), 120_000)),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls: servers.map((s) => s.url), processes: servers.map((s) => s.process), stop };
}
