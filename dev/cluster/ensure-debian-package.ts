/**
 * Finds a program that a Debian package provides, installing that package with apt-get when the
 * program is missing and we run as root (as on CI and a fresh dev machine); otherwise it fails
 * with a message that names the package, so nothing that needs the program is skipped quietly.
 * The launcher's etcd (ensure-etcd.ts) and PostgreSQL (ensure-postgres.ts), and the browser
 * tests' chromium all come through here.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
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

export interface EnsureDebianPackageOptions {
  /** The program to find, e.g. `etcd`. */
  binary: string;
  /** The Debian package that provides it, e.g. `etcd-server`. */
  packageName: string;
  /** The environment variable that names the program's path instead, e.g. `ETCD_BIN`. */
  overrideVariable: string;
  /** The program's path, which skips the search. Default process.env[overrideVariable]. */
  override?: string;
  /** PATH to search, then /usr/bin and /usr/local/bin. Default process.env.PATH. */
  pathVariable?: string;
  /** Print progress while installing. Default console.log. */
  log?: (line: string) => void;
  /**
   * Start no service while installing: a policy-rc.d answering 101 ("action forbidden"), removed
   * afterwards. Debian's postgresql would otherwise start its `main` cluster on port 5432; ours
   * run under the data directory instead. Default false.
   */
  holdServices?: boolean;
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

export function ensureDebianPackage({
  binary,
  packageName,
  overrideVariable,
  override = process.env[overrideVariable] || undefined,
  pathVariable = process.env.PATH ?? '',
  log = console.log,
  holdServices = false,
}: EnsureDebianPackageOptions): string {
  if (override) {
    try {
      accessSync(override, constants.X_OK);
    } catch {
      throw new Error(`${overrideVariable}=${override} is not an executable file`);
    }
    return override;
  }
  const search = `${pathVariable}${delimiter}/usr/bin${delimiter}/usr/local/bin`;
  const found = findOnPath(binary, search);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${binary} is not installed. Install Debian's ${packageName} package (sudo apt-get install ${packageName}), or set ${overrideVariable}.`,
    );
  }
  log(`${binary} not found: installing Debian package ${packageName} with apt-get ...`);
  const ownPolicy = holdServices && !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    aptGetInstall(packageName);
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  const installed = findOnPath(binary, search);
  if (!installed) throw new Error(`${packageName} was installed but no ${binary} binary was found`);
  log(`installed ${packageName}: ${installed}`);
  return installed;
}

function aptGetInstall(packageName: string): void {
  for (const args of [
    ['update', '-q'],
    // Wait for another apt-get (a parallel test file) rather than fail on its lock.
    ['install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', packageName],
  ]) {
    const result = spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0)
      throw new Error(`apt-get ${args.join(' ')} failed; install ${packageName} by hand`);
  }
}
