/**
 * The data dir's etcd release record (dev/cluster/data-dir-version.ts, issue 17 §5): a 3.4 data
 * dir upgraded to 3.5 cannot go back, so its members are backed up before 3.5 first opens them,
 * and 3.4 is refused afterwards with the way back.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareDataDir, prepareEtcdRelease, readDataDirVersion } from '../../dev/cluster/data-dir-version';

let dataDir: string;
const members = ['n1', 'n2', 'n3'];
const at = () => new Date('2026-12-01T02:00:00.000Z');

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'payments-etcd-release-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A data dir as 3.4 left it: version 2, members with data, no release recorded. */
function dataDirFrom34(): void {
  prepareDataDir({ dataDir, members: [] });
  for (const m of members) {
    mkdirSync(join(dataDir, m, 'member', 'snap'), { recursive: true });
    writeFileSync(join(dataDir, m, 'member', 'snap', 'db'), `${m}'s data`);
  }
}

describe('etcd release of the data dir', () => {
  it('a 3.4 data dir upgraded to 3.5: the members are backed up before 3.5 opens them, and the upgrade recorded', () => {
    dataDirFrom34();
    const backup = prepareEtcdRelease({ dataDir, members, release: '3.5', now: at });
    expect(backup).toBe(join(dataDir, 'backups', 'etcd-3.4-2026-12-01T02-00-00-000Z'));
    for (const m of members) {
      expect(readFileSync(join(backup!, m, 'member', 'snap', 'db'), 'utf8')).toBe(`${m}'s data`);
    }
    expect(readDataDirVersion(dataDir)).toMatchObject({
      version: 2,
      etcdRelease: '3.5',
      etcdUpgrades: [{ from: '3.4', to: '3.5', at: '2026-12-01T02:00:00.000Z', backup }],
    });
    // Opened by 3.5 again: no second backup.
    expect(prepareEtcdRelease({ dataDir, members, release: '3.5', now: at })).toBeUndefined();
  });

  it('a data dir upgraded to 3.5 cannot go back: 3.4 is refused, naming the backup to restore', () => {
    dataDirFrom34();
    const backup = prepareEtcdRelease({ dataDir, members, release: '3.5', now: at });
    expect(() => prepareEtcdRelease({ dataDir, members, release: '3.4' })).toThrow(
      new RegExp(`opened by etcd 3\\.5, and etcd 3\\.4 cannot read them.*restore the members from ${backup}`),
    );
    expect(readDataDirVersion(dataDir)?.etcdRelease).toBe('3.5');
  });

  it('a new data dir records its release without a backup; 3.4 on a 3.4 data dir changes nothing', () => {
    prepareDataDir({ dataDir, members });
    expect(prepareEtcdRelease({ dataDir, members, release: '3.4' })).toBeUndefined();
    expect(readDataDirVersion(dataDir)?.etcdRelease).toBe('3.4');
    expect(existsSync(join(dataDir, 'backups'))).toBe(false);
  });
});
