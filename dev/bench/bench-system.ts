/**
 * The system the bench measures, started as `npm start` runs it (dev/start.ts), on free loopback
 * ports in temporary directories: etcd members (TLS, client certificates, RBAC), the archive's
 * PostgreSQL primary and synchronous standby, chrony on loopback as the NTP reference, and the
 * function hosts with API keys, info-level logs, metrics, the event log shipped to PostgreSQL and
 * a hot window shorter than the run, so archival moves payments out of etcd while it is measured.
 * `stop()` stops every process it started and removes the directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgres } from '../cluster/ensure-postgres';
import { freePort } from '../cluster/free-port';
import { ensureChrony, LocalChrony } from '../cluster/local-chrony';
import { PostgresCluster } from '../cluster/postgres-cluster';
import {
  type ScratchCluster,
  type ScratchClusterOptions,
  startScratchCluster,
} from '../cluster/scratch-cluster';

export interface BenchSystemOptions {
  /** Options of the etcd members and hosts (dev/cluster/scratch-cluster.ts). */
  cluster: ScratchClusterOptions;
  /** LEDGER_HOT_WINDOW of the hosts, e.g. `5s`: shorter than the run, so archival runs in it. */
  hotWindow: string;
  log?: (line: string) => void;
}

export interface BenchSystem {
  cluster: ScratchCluster;
  postgres: PostgresCluster;
  /** Absent when chronyd could not be found or installed (the hosts then agree among themselves). */
  chrony: LocalChrony | undefined;
  stop(): Promise<void>;
}

export async function startBenchSystem({
  cluster: options,
  hotWindow,
  log = () => {},
}: BenchSystemOptions): Promise<BenchSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'payments-bench-archive-'));
  // initdb without fsync only speeds up creating the data dirs; at run time fsync and
  // synchronous_commit are on, as under npm start (postgres-server.ts).
  const postgres = new PostgresCluster({ binDir: ensurePostgres(), dir: join(dir, 'pg'), noSyncInit: true });
  let chrony: LocalChrony | undefined;
  try {
    chrony = new LocalChrony({
      binary: ensureChrony({ log }),
      dir: join(dir, 'chrony'),
      port: await freePort(),
    });
  } catch (error) {
    log(`warning: no NTP reference: ${(error as Error).message}`);
  }
  let cluster: ScratchCluster | undefined;
  const stop = async () => {
    await cluster?.stop();
    await Promise.all([postgres.stop(), chrony?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    log(`PostgreSQL primary and synchronous standby under ${join(dir, 'pg')} ...`);
    await postgres.start();
    chrony?.start();
    cluster = await startScratchCluster({
      ...options,
      hostEnv: {
        ARCHIVE_URL: postgres.urls().host,
        LEDGER_HOT_WINDOW: hotWindow,
        ...(chrony ? { NTP_SERVERS: chrony.address } : {}),
        ...options.hostEnv,
      },
    });
    return { cluster, postgres, chrony, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
