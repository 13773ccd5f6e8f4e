/**
 * `npm start` started in the background, as a newcomer or a script does, on a new data dir:
 *   - the new data dir is not taken for one from before the archive (chrony's directory, made
 *     before the version check, read as "version 1" and was "migrated");
 *   - when the launcher's parent (npm, the shell) is killed, nobody is left to send it a signal:
 *     it must notice and stop everything it started, rather than run on as an orphan.
 * The parent here is a shell that started the launcher in the background and waits for it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERSION_FILE } from '../../dev/cluster/data-dir-version';
import { freePort } from '../../dev/cluster/free-port';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';
import { waitFor } from '../../dev/cluster/managed-process';

const dir = mkdtempSync(join(tmpdir(), 'payments-orphan-'));
const dataDir = join(dir, 'data');
const log = join(dir, 'start.log');
const pidFile = join(dir, 'launcher.pid');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
let launcherPid: number | undefined;

afterAll(async () => {
  // The launcher should be gone by now; if the test failed before, stop it as its own SIGTERM does.
  if (launcherPid !== undefined && alive(launcherPid)) {
    process.kill(launcherPid, 'SIGTERM');
    await waitFor('the launcher to stop', async () => !alive(launcherPid!), 30_000).catch(() => {
      process.kill(launcherPid!, 'SIGKILL');
    });
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('npm start in the background', () => {
  it('orphaned launcher: its parent killed, it stops everything it started; a new data dir is not migrated', async () => {
    const [client, peer, hostPort] = [await freePort(), await freePort(), await freePort()];
    const flags = [
      ...['--data-dir', dataDir, '--etcd-members', '1', '--hosts', '1'],
      ...['--etcd-client-ports', String(client), '--etcd-peer-ports', String(peer)],
      ...['--host-ports', String(hostPort)],
    ];
    const launcher = ['node', '--import', 'tsx', 'dev/start.ts', ...flags].join(' ');
    const shell = spawn('sh', ['-c', `${launcher} > ${log} 2>&1 & echo $! > ${pidFile}; wait`], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    await waitFor('the launcher pid', async () => existsSync(pidFile), 10_000);
    launcherPid = Number(readFileSync(pidFile, 'utf8').trim());
    await waitFor(
      'npm start to be ready',
      async () => existsSync(log) && readFileSync(log, 'utf8').includes('ready: try'),
      120_000,
    );
    const version = JSON.parse(readFileSync(join(dataDir, VERSION_FILE), 'utf8'));
    expect(version.migrations).toEqual([]);
    expect(readFileSync(log, 'utf8')).not.toMatch(/migrating the data dir/);

    shell.kill('SIGKILL');
    await waitFor('the orphaned launcher to stop', async () => !alive(launcherPid!), 60_000);
    const text = readFileSync(log, 'utf8');
    expect(text).toMatch(/parent process \d+ exited: stopping hosts, then etcd and PostgreSQL/);
    expect(text).toMatch(/^stopped\.$/m);
    // Nothing it started still listens: the host's port is free again.
    await expect(fetch(`http://127.0.0.1:${hostPort}/health`)).rejects.toThrow();
  }, 240_000);
});
