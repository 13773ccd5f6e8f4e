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
 *
 * The file also records which etcd release (major.minor) last opened the members (`etcdRelease`;
 * absent: 3.4, the only one before). etcd's data moves forward only: a member dir that 3.5 has
 * opened cannot be read by 3.4 again. So before a newer release first opens them, the members are
 * copied to `<data-dir>/backups/etcd-<old>-<time>/` (prepareEtcdRelease), and an older release is
 * refused with the way back: that backup (docs/operations.md, "etcd 3.5").
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR_VERSION = 2;
export const VERSION_FILE = 'data-dir-version.json';

export interface DataDirVersion {
  version: number;
  /** Migrations applied to this data dir, oldest first. */
  migrations: { from: number; to: number; at: string; backup: string | null }[];
  /** The etcd release (major.minor) that last opened the members; absent: 3.4. */
  etcdRelease?: string;
  /** etcd upgrades of the members, oldest first, each with its backup. */
  etcdUpgrades?: { from: string; to: string; at: string; backup: string | null }[];
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
    const copied = backUpMembers(dataDir, members, `v1-${stamp(now())}`);
    backup = copied?.dir;
    if (copied) {
      log(
        `data dir from before the archive (version 1): etcd members ${copied.members.join(', ')} backed up to ${copied.dir}`,
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

const stamp = (at: Date) => at.toISOString().replace(/[:.]/g, '-');

/** Copies the members' directories present in the data dir to `<data-dir>/backups/<name>/`. */
function backUpMembers(
  dataDir: string,
  members: string[],
  name: string,
): { dir: string; members: string[] } | undefined {
  const present = members.filter((m) => existsSync(join(dataDir, m)));
  if (present.length === 0) return undefined;
  const dir = join(dataDir, 'backups', name);
  mkdirSync(dir, { recursive: true });
  for (const m of present) cpSync(join(dataDir, m), join(dir, m), { recursive: true });
  return { dir, members: present };
}

const releaseOrder = (release: string) => release.split('.').map(Number) as [number, number];
const newer = (a: string, b: string) => {
  const [[am, an], [bm, bn]] = [releaseOrder(a), releaseOrder(b)];
  return am !== bm ? am > bm : an > bn;
};

export interface PrepareEtcdReleaseOptions extends PrepareDataDirOptions {
  /** The release (major.minor) of the etcd binary about to open the members, e.g. `3.5`. */
  release: string;
}

/**
 * Records the etcd release that is about to open the members; when it is newer than the one that
 * last did, backs their directories up first. Throws when it is older (etcd cannot go back).
 * Returns the backup's directory, if one was made. Call it after prepareDataDir, before any
 * etcd member starts.
 */
export function prepareEtcdRelease({
  dataDir,
  members,
  release,
  log = () => {},
  now = () => new Date(),
}: PrepareEtcdReleaseOptions): string | undefined {
  const file = join(dataDir, VERSION_FILE);
  const found = readDataDirVersion(dataDir) ?? { version: DATA_DIR_VERSION, migrations: [] };
  const hasMembers = members.some((m) => existsSync(join(dataDir, m)));
  const last = found.etcdRelease ?? (hasMembers ? '3.4' : undefined);
  if (last !== undefined && newer(last, release)) {
    const backups = (found.etcdUpgrades ?? []).filter((u) => u.to === last && u.backup).map((u) => u.backup);
    throw new Error(
      `${dataDir}'s etcd members were opened by etcd ${last}, and etcd ${release} cannot read them. ` +
        `Run etcd ${last} (PAY_ETCD_VERSION=${last}), or restore the members from ${backups.at(-1) ?? 'a backup'} into ${dataDir}.`,
    );
  }
  let backup: string | undefined;
  const upgrades = [...(found.etcdUpgrades ?? [])];
  if (last !== undefined && last !== release) {
    backup = backUpMembers(dataDir, members, `etcd-${last}-${stamp(now())}`)?.dir;
    upgrades.push({ from: last, to: release, at: now().toISOString(), backup: backup ?? null });
    log(
      `etcd ${release} opens members last opened by etcd ${last}, which cannot read them afterwards: backed up to ${backup}`,
    );
  }
  if (last === release && found.etcdRelease === release) return undefined;
  const updated: DataDirVersion = { ...found, etcdRelease: release, etcdUpgrades: upgrades };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(updated, null, 2)}\n`);
  return backup;
}
