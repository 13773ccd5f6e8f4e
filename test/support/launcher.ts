/**
 * `npm start` (dev/start.ts) as the tests run it: a real launcher process on the flags given, its
 * output in `logFile` as a start log redirected to a file would be. Stopped by pid through
 * ManagedProcess; SIGTERM makes it stop everything it started.
 */
import { join } from 'node:path';
import { REPO_ROOT } from '../../dev/cluster/host-fleet';
import { ManagedProcess } from '../../dev/cluster/managed-process';

export function startLauncher(
  dataDir: string,
  logFile: string,
  flags: string[],
  env: NodeJS.ProcessEnv = process.env,
): ManagedProcess {
  const launcher = new ManagedProcess({
    name: 'npm start',
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'dev/start.ts'), '--data-dir', dataDir, ...flags],
    cwd: REPO_ROOT,
    env,
    logFile,
  });
  launcher.start();
  return launcher;
}
