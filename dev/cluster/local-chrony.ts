/**
 * Debian's chrony on loopback as the local NTP reference of `npm start` (issue 16): it serves
 * this machine's clock (`local stratum 10`, no upstream servers) to the time master, over the
 * real protocol on an unprivileged UDP port.
 *
 * It runs as our own process, `chronyd -d -x -f <dir>/chrony.conf`: `-x` leaves the system clock
 * alone, `-d` keeps it in the foreground so it is stopped by pid like etcd. As root chronyd drops
 * to the `_chrony` user (`-u`), which gets its directory. Installing the package must not leave a
 * system chrony running (it would set the machine's clock and contact public pools): apt-get runs
 * with services held back (a policy-rc.d answering 101 while it installs), and a systemd unit, if
 * any, is disabled and stopped.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ensureDebianPackage } from './ensure-debian-package';
import { ManagedProcess } from './managed-process';

/** chronyd's path (CHRONYD_BIN, else PATH and /usr/sbin), installing Debian's `chrony` package with its service held back when missing and root. */
export function ensureChrony({ log = console.log }: { log?: (line: string) => void } = {}): string {
  const binary = ensureDebianPackage({
    binary: 'chronyd',
    packageName: 'chrony',
    overrideVariable: 'CHRONYD_BIN',
    pathVariable: `${process.env.PATH ?? ''}${delimiter}/usr/sbin${delimiter}/sbin`,
    holdServices: true,
    log,
  });
  // On a machine run by systemd the package enables its unit: keep the system daemon off.
  spawnSync('systemctl', ['disable', '--now', 'chrony'], { stdio: 'ignore' });
  return binary;
}

export interface LocalChronyOptions {
  binary: string;
  /** Directory for its config, pid file, drift file and log. */
  dir: string;
  /** UDP port it serves NTP on, on 127.0.0.1. */
  port: number;
}

export class LocalChrony {
  readonly process: ManagedProcess;
  readonly address: string;

  constructor({ binary, dir, port }: LocalChronyOptions) {
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'chrony.conf');
    writeFileSync(
      conf,
      [
        '# Written by dev/cluster/local-chrony.ts: serve this machine clock on loopback only.',
        `port ${port}`,
        'bindaddress 127.0.0.1',
        'allow 127.0.0.1',
        'local stratum 10',
        'cmdport 0',
        `pidfile ${join(dir, 'chronyd.pid')}`,
        `driftfile ${join(dir, 'chrony.drift')}`,
        '',
      ].join('\n'),
    );
    const args = ['-d', '-x', '-f', conf];
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', '_chrony']).stdout?.toString().trim());
      const gid = Number(spawnSync('id', ['-g', '_chrony']).stdout?.toString().trim());
      if (Number.isInteger(uid) && uid > 0) {
        chownSync(dir, uid, gid);
        args.push('-u', '_chrony');
      }
    }
    this.address = `127.0.0.1:${port}`;
    this.process = new ManagedProcess({
      name: 'chronyd',
      command: binary,
      args,
      logFile: join(dir, 'chronyd.log'),
    });
  }

  start(): void {
    this.process.start();
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
