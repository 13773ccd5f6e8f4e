/**
 * Finds the etcd server binary, installing Debian's `etcd-server` package with apt-get when it is
 * missing and we run as root. Otherwise it fails with a message that names the package.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findOnPath(binary: string, pathVariable: string): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export interface EnsureEtcdOptions {
  /** Explicit path to the etcd binary (ETCD_BIN). Default: search PATH, then /usr/bin. */
  binary?: string;
  /** PATH to search. Default process.env.PATH. */
  pathVariable?: string;
  /** Print progress while installing. Default console.log. */
  log?: (line: string) => void;
}

export function ensureEtcd({
  binary,
  pathVariable = process.env.PATH ?? '',
  log = console.log,
}: EnsureEtcdOptions = {}): string {
  if (binary) return binary;
  const found = findOnPath('etcd', `${pathVariable}${delimiter}/usr/bin${delimiter}/usr/local/bin`);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "etcd is not installed. Install Debian's etcd-server package (sudo apt-get install etcd-server), or set ETCD_BIN.",
    );
  }
  log('etcd not found: installing Debian package etcd-server with apt-get ...');
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', 'etcd-server'],
  ]) {
    const result = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed; install etcd-server by hand`);
  }
  const installed = findOnPath('etcd', `/usr/bin${delimiter}${pathVariable}`);
  if (!installed) throw new Error('etcd-server was installed but no etcd binary was found');
  log(`installed ${execFileSync(installed, ['--version']).toString().split('\n')[0]}`);
  return installed;
}
