/**
 * The soak's cluster (issue 14, §9): three etcd members with a small quota, a PostgreSQL primary
 * and its synchronous standby (the archive), and three function hosts with a short hot window,
 * all on free loopback ports in one temporary directory, stopped and removed by `stop()`.
 *
 * The hosts run with the test-only ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS (functions/config.ts), so
 * the leader waits, announced in its log, between an archival step's insert and its removal: the
 * window in which the soak kills it (soak-faults.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maintenanceIntervalFor } from '../../coordination/cluster/compaction-scale';
import { DEFAULT_RETENTION_POLICY } from '../../coordination/cluster/ledger-maintenance';
import { DEFAULT_HIGH_WATER_RATIO } from '../../coordination/cluster/quota-guard';
import { coordinationKeys } from '../../coordination/etcd/key-layout';
import { ensurePostgres } from '../cluster/ensure-postgres';
import { type ArchiveUrls, PostgresCluster } from '../cluster/postgres-cluster';
import { type ScratchCluster, startScratchCluster } from '../cluster/scratch-cluster';

export interface SoakClusterOptions {
  /** etcd's --quota-backend-bytes, also the hosts' ETCD_QUOTA_BYTES. */
  quotaBytes: number;
  /** LEDGER_HOT_WINDOW, a duration such as `3s` or `20s`. */
  hotWindow: string;
  /** The archiving leader's pause between insert and removal, ms (test hook). 0: none. */
  pauseAfterInsertMs: number;
  /**
   * Revisions of history the leader's compaction keeps (`<root>/meta/retention`, the operator's
   * setting in docs/operations.md). Default none: the policy's default, scaled to the quota by the
   * leader (coordination/cluster/compaction-scale.ts), as an operator's cluster runs.
   */
  keepRevisions?: number;
  /** Function hosts. Default 3. */
  hosts?: number;
  /** Keep the directory (logs) afterwards. Default false. */
  keepDir?: boolean;
  log?: (line: string) => void;
}

export interface SoakCluster {
  cluster: ScratchCluster;
  postgres: PostgresCluster;
  archive: ArchiveUrls;
  dir: string;
  stop(): Promise<void>;
}

export async function startSoakCluster({
  quotaBytes,
  hotWindow,
  pauseAfterInsertMs,
  keepRevisions,
  hosts = 3,
  keepDir = false,
  log = () => {},
}: SoakClusterOptions): Promise<SoakCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'payments-soak-'));
  const postgres = new PostgresCluster({
    binDir: ensurePostgres(),
    dir: join(dir, 'pg'),
    standby: true,
    noSyncInit: true,
  });
  let cluster: ScratchCluster | undefined;
  const stop = async () => {
    await cluster?.stop();
    await postgres.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    log(`PostgreSQL primary and synchronous standby under ${join(dir, 'pg')} ...`);
    await postgres.start();
    const archive = await postgres.createDatabase(`soak_${randomBytes(4).toString('hex')}`);
    log(`etcd (quota ${quotaBytes} bytes) and ${hosts} hosts (hot window ${hotWindow}) ...`);
    cluster = await startScratchCluster({
      hosts,
      etcdQuotaBytes: quotaBytes,
      dirPrefix: 'payments-soak-etcd-',
      keepDir,
      hostEnv: {
        ARCHIVE_URL: archive.host,
        LEDGER_HOT_WINDOW: hotWindow,
        ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS: String(pauseAfterInsertMs),
        LOG_LEVEL: 'warn',
        // The soak's one admin key drives every request: no per-key share of a host's capacity.
        HOST_MAX_REQUESTS_PER_KEY: '128',
      },
      startTimeoutMs: { etcd: 60_000, hosts: 60_000 },
    });
    if (keepRevisions !== undefined) {
      const policy = { ...DEFAULT_RETENTION_POLICY, keepRevisions };
      await cluster
        .client()
        .put(coordinationKeys(cluster.ledgerRoot).retentionPolicy())
        .value(JSON.stringify(policy));
    }
    log(
      `retention: ${keepRevisions ?? 'default'} revisions, scaled to the quota (maintenance every ${maintenanceIntervalFor(quotaBytes, DEFAULT_HIGH_WATER_RATIO)} ms)`,
    );
    return { cluster, postgres, archive, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
