/**
 * Finds the etcd server binary (ETCD_BIN, else PATH), installing Debian's `etcd-server` package
 * with apt-get when it is missing and we run as root. Otherwise it fails with a message that names
 * the package.
 */
import { ensureDebianPackage } from './ensure-debian-package';

export interface EnsureEtcdOptions {
  /** Explicit path to the etcd binary. Default: ETCD_BIN, else search PATH, then /usr/bin. */
  binary?: string;
  /** PATH to search. Default process.env.PATH. */
  pathVariable?: string;
  /** Print progress while installing. Default console.log. */
  log?: (line: string) => void;
}

export function ensureEtcd({ binary, pathVariable, log }: EnsureEtcdOptions = {}): string {
  return ensureDebianPackage({
    binary: 'etcd',
    packageName: 'etcd-server',
    overrideVariable: 'ETCD_BIN',
    override: binary,
    pathVariable,
    log,
  });
}
