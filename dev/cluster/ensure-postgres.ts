/**
 * Finds PostgreSQL's server binaries (initdb, postgres, pg_basebackup, pg_isready), which Debian
 * keeps off PATH in /usr/lib/postgresql/<major>/bin, installing Debian's `postgresql` package with
 * apt-get when they are missing and we run as root, without starting its service
 * (ensure-debian-package.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ensureDebianPackage } from './ensure-debian-package';

const DEBIAN_ROOT = '/usr/lib/postgresql';

export interface EnsurePostgresOptions {
  /** Directory holding initdb and postgres. Default: PG_BIN_DIR, else the newest under /usr/lib/postgresql. */
  binDir?: string;
  /** Print progress while installing. Default console.log. */
  log?: (line: string) => void;
}

/** Debian's server directories, newest major first; the majors Debian may install when none is. */
function debianBinDirs(): string[] {
  const installed = existsSync(DEBIAN_ROOT) ? readdirSync(DEBIAN_ROOT).filter((m) => /^\d+$/.test(m)) : [];
  const majors = new Set([...installed, ...['18', '17', '16', '15', '14', '13']]);
  return [...majors].sort((a, b) => Number(b) - Number(a)).map((major) => join(DEBIAN_ROOT, major, 'bin'));
}

/** The directory of the PostgreSQL server binaries. */
export function ensurePostgres({
  binDir = process.env.PG_BIN_DIR || undefined,
  log,
}: EnsurePostgresOptions = {}): string {
  if (binDir) {
    if (!existsSync(join(binDir, 'postgres')))
      throw new Error(`PG_BIN_DIR=${binDir} holds no postgres binary`);
    return binDir;
  }
  const initdb = ensureDebianPackage({
    binary: 'initdb',
    packageName: 'postgresql',
    overrideVariable: 'PG_INITDB',
    pathVariable: debianBinDirs().join(delimiter),
    holdServices: true,
    log,
  });
  return dirname(initdb);
}
