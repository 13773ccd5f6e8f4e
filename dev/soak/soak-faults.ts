/**
 * The soak's faults (issue 14, §9):
 *  - the archiving leader SIGKILLed between an archival step's insert into PostgreSQL and the
 *    removal from etcd: the hosts run with the test-only pause ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS,
 *    which the leader announces in its log; the soak waits for a new announcement by the current
 *    leader (GET /cluster) and kills it during the pause, then restarts it;
 *  - PostgreSQL (primary and standby) stopped for a while, then started again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from '../cluster/http';
import type { SoakCluster } from './soak-cluster';

const PAUSE_LINE = 'archival paused after insert (test hook)';

export interface LeaderKill {
  host: string;
  /** Whether the kill landed inside the pause after an insert (it was announced and not yet over). */
  afterInsert: boolean;
  /** Time from the kill until the next leader was elected, ms. */
  newLeaderMs: number;
  newLeader: string;
}

/** Announcements of the pause in one host's log. */
class PauseWatch {
  private count: number;

  constructor(private readonly file: string) {
    this.count = this.announcements();
  }

  private announcements(): number {
    try {
      return readFileSync(this.file, 'utf8').split(PAUSE_LINE).length - 1;
    } catch {
      return 0;
    }
  }

  describe(): string {
    return `${this.count} announcements in ${this.file}`;
  }

  /** True when a new announcement was logged since the last call. */
  read(): boolean {
    const now = this.announcements();
    const fresh = now > this.count;
    this.count = now;
    return fresh;
  }
}

async function leaderId(soak: SoakCluster): Promise<string | undefined> {
  for (const url of soak.cluster.fleet.urls()) {
    try {
      const r = await request<{ leader: { id: string } | null }>(`${url}/cluster`, {}, 3000);
      if (r.status === 200 && r.body.leader) return r.body.leader.id;
    } catch {
      // a host being killed or restarted: ask the next one
    }
  }
  return undefined;
}

/**
 * Kills the leader during its next announced pause after an insert (only the leader archives, so
 * the host that announces one leads), waits for a successor, and restarts the killed host.
 * Bounded by `timeoutMs` for the pause to come.
 */
export async function killLeaderAfterInsert(
  soak: SoakCluster,
  { pauseMs, timeoutMs = 60_000 }: { pauseMs: number; timeoutMs?: number },
): Promise<LeaderKill> {
  const deadline = Date.now() + timeoutMs;
  const watches = soak.cluster.fleet.hosts.map((h) => ({
    id: h.id,
    watch: new PauseWatch(join(soak.cluster.dir, `${h.id}.log`)),
  }));
  let checkedAt = Date.now();
  for (; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const leader = watches.find(({ watch }) => watch.read())?.id;
    if (!leader) {
      checkedAt = Date.now();
      continue;
    }
    const killedAt = Date.now(); // SIGKILL is sent at once; kill() then waits for the exit
    await soak.cluster.fleet.host(leader).process.kill();
    // The pause began after the last look that did not see it (less the log's own delay, a few
    // ms): a kill less than pauseMs after that look landed inside it, after the insert and
    // before the removal.
    const afterInsert = killedAt - checkedAt < pauseMs - 100;
    let next: string | undefined;
    while (Date.now() < killedAt + 30_000) {
      next = await leaderId(soak);
      if (next && next !== leader) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const newLeaderMs = Date.now() - killedAt;
    await soak.cluster.fleet.restart(leader, 60_000);
    return { host: leader, afterInsert, newLeaderMs, newLeader: next ?? 'none' };
  }
  const sizes = watches.map(({ id, watch }) => `${id}: ${watch.describe()}`).join(', ');
  throw new Error(`no archival pause announced within ${timeoutMs} ms (${sizes})`);
}

/** Stops PostgreSQL (both servers) for `ms`, calling `during` meanwhile, then starts it again. */
export async function postgresOutage<T>(soak: SoakCluster, ms: number, during: () => Promise<T>): Promise<T> {
  await soak.postgres.stop();
  try {
    const [result] = await Promise.all([during(), new Promise((r) => setTimeout(r, ms))]);
    return result;
  } finally {
    await soak.postgres.start();
  }
}
