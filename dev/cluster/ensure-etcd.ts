/**
 * Finds the etcd server binary: ETCD_BIN; else, with PAY_ETCD_VERSION=3.5, Debian unstable's
 * 3.5.30 fetched by fetch-etcd.sh into the repo's ignored .cache/ (never installed over the
 * system's), falling back to 3.4 when the download is not possible; else bookworm's 3.4.23 from
 * PATH, installing Debian's `etcd-server` package with apt-get when it is missing and we run as
 * root. Otherwise it fails with a message that names the package.
 *
 * 3.4 stays the default: on 3.5.30 the hosts' credential may no longer read a member's Status,
 * which their endpoint probe, quota guard and /cluster depend on (docs/operations.md, "etcd 3.5").
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage } from './ensure-debian-package';

export type EtcdRelease = '3.4' | '3.5';
export const ETCD_RELEASES: EtcdRelease[] = ['3.4', '3.5'];

export interface EnsureEtcdOptions {
  /** Explicit path to the etcd binary. Default: ETCD_BIN, else by `release`. */
  binary?: string;
  /** Which etcd: '3.4' (the system's) or '3.5' (fetched). Default PAY_ETCD_VERSION, else '3.4'. */
  release?: string;
  /** PATH to search. Default process.env.PATH. */
  pathVariable?: string;
  /** Print progress while installing. Default console.log. */
  log?: (line: string) => void;
}

const FETCH_SCRIPT = fileURLToPath(new URL('./fetch-etcd.sh', import.meta.url));

export function ensureEtcd({
  binary,
  release = process.env.PAY_ETCD_VERSION || '3.4',
  pathVariable,
  log = console.log,
}: EnsureEtcdOptions = {}): string {
  if (!ETCD_RELEASES.includes(release as EtcdRelease)) {
    throw new Error(`PAY_ETCD_VERSION must be one of ${ETCD_RELEASES.join(', ')}, got ${release}`);
  }
  if (!binary && !process.env.ETCD_BIN && release === '3.5') {
    const fetched = fetchEtcd35();
    if (fetched) return fetched;
    log('etcd 3.5.30 could not be fetched (see above): falling back to the system etcd 3.4');
  }
  return ensureDebianPackage({
    binary: 'etcd',
    packageName: 'etcd-server',
    overrideVariable: 'ETCD_BIN',
    override: binary,
    pathVariable,
    log,
  });
}

/** fetch-etcd.sh's binary, or undefined when it could not fetch (its reasons go to stderr). */
function fetchEtcd35(): string | undefined {
  const result = spawnSync(FETCH_SCRIPT, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  });
  const path = result.stdout?.trim().split('\n').at(-1);
  return result.status === 0 && path ? path : undefined;
}

/** The binary's release, major.minor (`etcd --version`: "etcd Version: 3.4.23"). */
export function etcdRelease(binary: string): string {
  const text = execFileSync(binary, ['--version'], { encoding: 'utf8' });
  const match = /etcd Version: (\d+\.\d+)\./.exec(text);
  if (!match) throw new Error(`cannot read the version of ${binary}: ${text.split('\n')[0]}`);
  return match[1]!;
}
