/**
 * The launcher's data-dir version (issue 14, §7): `<data-dir>/data-dir-version.json`.
 *
 *   1  (no file) before the archive: etcd members only, payments under `/pay/v2`, no `postgres/`
 *   2  the archive: a PostgreSQL primary and standby under `postgres/`, and the hosts archive
 *      payments past the hot window
 *
 * A version 1 data dir is backed up before it is used, by copying each etcd member's directory
 * (`<data-dir>/n1`, …) to `<data-dir>/backups/v1-<time>/` while etcd is stopped (the launcher calls
 * this before it starts any member). The migration itself needs no rewrite: the etcd key layout
 * is still `/pay/v2`, the launcher then initialises `postgres/`, and the elected leader archives
 * the old payments like any others; retries of them replay from whichever tier holds them.
 * A data dir from a newer launcher is refused.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR_VERSION = 2;
export const VERSION_FILE = 'data-dir-version.json';

export interface DataDirVersion {
  version: number;
  /** Migrations applied to this data dir, oldest first. */
  migrations: { from: number; to: number; at: string; backup: string | null }[];
}

export interface PrepareDataDirOptions {
  dataDir: string;
  /** Names of the local etcd members, whose directories are backed up. None with --etcd-endpoints. */
  members: string[];
  log?: (line: string) => void;
  /** Time stamp of the backup's name. Default now. */
  now?: () => Date;
}

/** Reads the data dir's version: undefined for a new (empty) dir, 1 for one from before versions. */
export function readDataDirVersion(dataDir: string): DataDirVersion | undefined {
  const file = join(dataDir, VERSION_FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DataDirVersion;
  const used = existsSync(dataDir) && readdirSync(dataDir).length > 0;
  return used ? { version: 1, migrations: [] } : undefined;
}

/**
 * Brings the data dir to DATA_DIR_VERSION, backing up a version 1 dir's etcd members first.
 * Returns the backup's directory, if one was made. Call it before any etcd member starts.
 */
export function prepareDataDir({
  dataDir,
  members,
  log = () => {},
  now = () => new Date(),
}: PrepareDataDirOptions): string | undefined {
  const found = readDataDirVersion(dataDir);
  if (found && found.version > DATA_DIR_VERSION) {
    throw new Error(
      `${dataDir} is a version ${found.version} data dir, newer than this launcher's ${DATA_DIR_VERSION}`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  if (found?.version === DATA_DIR_VERSION) return undefined;
  let backup: string | undefined;
  if (found?.version === 1) {
    const present = members.filter((name) => existsSync(join(dataDir, name)));
    if (present.length > 0) {
      backup = join(dataDir, 'backups', `v1-${now().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(backup, { recursive: true });
      for (const name of present) cpSync(join(dataDir, name), join(backup, name), { recursive: true });
      log(
        `data dir from before the archive (version 1): etcd members ${present.join(', ')} backed up to ${backup}`,
      );
    }
    log(
      `migrating the data dir to version ${DATA_DIR_VERSION}: PostgreSQL is added; payments past the hot window move to it`,
    );
  }
  const version: DataDirVersion = {
    version: DATA_DIR_VERSION,
    migrations: [
      ...(found?.migrations ?? []),
      ...(found
        ? [{ from: found.version, to: DATA_DIR_VERSION, at: now().toISOString(), backup: backup ?? null }]
        : []),
    ],
  };
  writeFileSync(join(dataDir, VERSION_FILE), `${JSON.stringify(version, null, 2)}\n`);
  return backup;
}
