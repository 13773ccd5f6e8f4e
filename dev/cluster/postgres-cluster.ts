/**
 * The archive's local PostgreSQL (issue 14), for `npm start` and the tests: a primary and a
 * synchronous streaming standby, both built into PostgreSQL, so that a commit the archive
 * acknowledges is flushed (fsync) on two servers: the primary's synchronous_standby_names names
 * the standby, and synchronous_commit is on (postgres-server.ts).
 *
 * Everything lives under one directory: <dir>/pg1, <dir>/pg2 (data), their logs, and
 * <dir>/cluster.json (ports, passwords, which node is the primary; 0600), so a restart reuses it
 * all. Roles (the names the migrations grant to, ledger/archive/migrate.ts):
 *   postgres        superuser: creates roles and databases, promotes
 *   replicator      REPLICATION: the standby's stream
 *   payments_owner  owns each database and its tables, runs the migrations (DDL)
 *   payments_host   the function hosts: SELECT and INSERT only
 *
 * Failover is an operator step, `promoteStandby()` (docs/operations.md): the primary is stopped,
 * the standby promoted, and it runs alone (synchronous_standby_names emptied, so it accepts
 * writes) until the old primary is rebuilt as its standby: `rebuildStandby()`, which `start()`
 * also does by itself for a node that is neither the primary nor a healthy standby.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ARCHIVE_ROLES, migrate } from '../../ledger/archive/migrate';
import { freePort } from './free-port';
import { waitFor } from './managed-process';
import { makeTraversable, PostgresServer, serverDir } from './postgres-server';

export interface PostgresClusterOptions {
  /** Directory of the PostgreSQL binaries (ensure-postgres.ts). */
  binDir: string;
  /** Where data, logs and cluster.json live. */
  dir: string;
  /** Run a synchronous standby beside the primary. Default true. */
  standby?: boolean;
  /** Ports of pg1 and pg2 when first initialised. Default: free ports; later, the remembered ones. */
  ports?: [number, number];
  /** The database `npm start` uses, created with the migrations applied. Default `payments`. */
  database?: string;
  /** initdb --no-sync (tests: faster, and nothing to lose). Runtime fsync stays on. Default false. */
  noSyncInit?: boolean;
  /** Progress lines. Default silent. */
  log?: (line: string) => void;
}

type NodeName = 'pg1' | 'pg2';

interface ClusterState {
  ports: Record<NodeName, number>;
  primary: NodeName;
  passwords: { postgres: string; replicator: string; owner: string; host: string };
}

const other = (name: NodeName): NodeName => (name === 'pg1' ? 'pg2' : 'pg1');
const secret = () => randomBytes(18).toString('hex');
const slotOf = (name: NodeName) => `standby_${name}`;

/** Connection URLs of one database, one per role. */
export interface ArchiveUrls {
  /** payments_owner: migrations and DDL. */
  owner: string;
  /** payments_host: what the hosts get as ARCHIVE_URL. */
  host: string;
}

export class PostgresCluster {
  private state: ClusterState | undefined;
  private servers: Partial<Record<NodeName, PostgresServer>> = {};

  constructor(private readonly options: PostgresClusterOptions) {}

  private get stateFile(): string {
    return join(this.options.dir, 'cluster.json');
  }

  get database(): string {
    return this.options.database ?? 'payments';
  }

  get withStandby(): boolean {
    return this.options.standby ?? true;
  }

  private get current(): ClusterState {
    if (!this.state) throw new Error('the PostgreSQL cluster is not started');
    return this.state;
  }

  private server(name: NodeName): PostgresServer {
    let server = this.servers[name];
    if (!server) {
      server = new PostgresServer({
        name,
        binDir: this.options.binDir,
        dataDir: join(this.options.dir, name),
        port: this.current.ports[name],
      });
      this.servers[name] = server;
    }
    return server;
  }

  get primary(): PostgresServer {
    return this.server(this.current.primary);
  }

  /** The standby, when the cluster runs one. */
  get standby(): PostgresServer | undefined {
    return this.withStandby ? this.server(other(this.current.primary)) : undefined;
  }

  /** A role's URL for a database on the primary (or on `server`). */
  url(
    role: 'postgres' | 'owner' | 'host',
    database = this.database,
    server: PostgresServer = this.primary,
  ): string {
    const user = role === 'postgres' ? 'postgres' : ARCHIVE_ROLES[role];
    return `postgres://${user}:${this.current.passwords[role]}@127.0.0.1:${server.port}/${database}`;
  }

  urls(database = this.database): ArchiveUrls {
    return { owner: this.url('owner', database), host: this.url('host', database) };
  }

  /**
   * Starts the primary (initialising everything on the first run) and, with a standby, the
   * standby, and waits until the primary reports it as synchronous and streaming.
   */
  async start(): Promise<void> {
    const { dir, log = () => {} } = this.options;
    mkdirSync(dir, { recursive: true });
    makeTraversable(join(dir, 'pg1'));
    if (existsSync(this.stateFile)) {
      this.state = JSON.parse(readFileSync(this.stateFile, 'utf8')) as ClusterState;
    } else {
      const [a, b] = this.options.ports ?? [await freePort(), await freePort()];
      this.state = {
        ports: { pg1: a, pg2: b },
        primary: 'pg1',
        passwords: { postgres: secret(), replicator: secret(), owner: secret(), host: secret() },
      };
    }
    const primary = this.primary;
    const fresh = !primary.initialised;
    if (fresh) {
      log(`initdb ${primary.dataDir}`);
      primary.initdb(this.current.passwords.postgres, { noSync: this.options.noSyncInit });
    } else if (primary.standby) {
      throw new Error(`${primary.name} is recorded as the primary but is a standby; see ${this.stateFile}`);
    }
    await primary.start();
    if (fresh) {
      await this.provision();
      await this.createDatabase(this.database);
      this.save(); // only once the primary holds the roles the passwords belong to
    }
    if (this.withStandby) {
      if (this.standby!.standby && this.standby!.initialised) await this.standby!.start();
      else await this.rebuildStandby();
      await this.waitSynchronous();
    }
  }

  private save(): void {
    writeFileSync(this.stateFile, `${JSON.stringify(this.current, null, 2)}\n`, { mode: 0o600 });
  }

  /** Runs statements as the superuser on `server` (default the primary). */
  async sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
    { database = 'postgres', server = this.primary }: { database?: string; server?: PostgresServer } = {},
  ): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.url('postgres', database, server) });
    await client.connect();
    try {
      return (await client.query<Row>(text, values)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async provision(): Promise<void> {
    const { passwords } = this.current;
    // Passwords are hex we made: safe inside a literal (CREATE ROLE takes no parameters).
    await this.sql(`CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD '${passwords.replicator}'`);
    await this.sql(`CREATE ROLE ${ARCHIVE_ROLES.owner} WITH LOGIN PASSWORD '${passwords.owner}'`);
    await this.sql(`CREATE ROLE ${ARCHIVE_ROLES.host} WITH LOGIN PASSWORD '${passwords.host}'`);
  }

  /**
   * A database owned by payments_owner, with the migrations applied (ledger/archive/migrate.ts);
   * only the owner and the host role may connect. `name`: lower-case letters, digits, `_`.
   */
  async createDatabase(name: string): Promise<ArchiveUrls> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
    await this.sql(`CREATE DATABASE ${name} OWNER ${ARCHIVE_ROLES.owner}`);
    await this.sql(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    await this.sql(`GRANT CONNECT ON DATABASE ${name} TO ${ARCHIVE_ROLES.host}`);
    await migrate({ url: this.url('owner', name), log: this.options.log });
    return this.urls(name);
  }

  /**
   * Makes the non-primary node a fresh standby of the primary: its data directory is replaced by a
   * pg_basebackup through a new replication slot, it streams from the primary, and the primary
   * waits for it on every commit from then on.
   */
  async rebuildStandby(): Promise<void> {
    const { log = () => {} } = this.options;
    const primary = this.primary;
    const standby = this.server(other(this.current.primary));
    await standby.stop();
    rmSync(standby.dataDir, { recursive: true, force: true });
    serverDir(standby.dataDir, standby.user);
    const slot = slotOf(standby.name as NodeName);
    await this.sql(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    log(`pg_basebackup ${primary.name} -> ${standby.dataDir}`);
    standby.tool(
      'pg_basebackup',
      [
        ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'replicator', '-D', standby.dataDir],
        ['-X', 'stream', '--create-slot', '--slot', slot, '--checkpoint=fast', '--no-password'],
      ].flat(),
      { PGPASSWORD: this.current.passwords.replicator },
    );
    writeFileSync(join(standby.dataDir, 'standby.signal'), '');
    const conninfo = [
      'host=127.0.0.1',
      `port=${primary.port}`,
      'user=replicator',
      `password=${this.current.passwords.replicator}`,
      `application_name=${standby.name}`,
    ].join(' ');
    // postgresql.auto.conf came with the backup; later lines win, and it stays the server user's.
    appendFileSync(
      join(standby.dataDir, 'postgresql.auto.conf'),
      `primary_conninfo = '${conninfo}'\nprimary_slot_name = '${slot}'\n`,
    );
    await standby.start();
    await this.sql(`ALTER SYSTEM SET synchronous_standby_names = '"${standby.name}"'`);
    await this.sql('SELECT pg_reload_conf()');
  }

  /** Waits until the primary reports its standby as synchronous and streaming. */
  async waitSynchronous(timeoutMs = 30_000): Promise<void> {
    const name = this.standby!.name;
    await waitFor(
      `${name} streaming as the synchronous standby`,
      async () => {
        const rows = await this.sql<{ state: string; sync_state: string }>(
          'SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1',
          [name],
        );
        return rows.some((r) => r.state === 'streaming' && r.sync_state === 'sync');
      },
      timeoutMs,
    );
  }

  /**
   * The operator's failover step: stops the primary if it still runs here (a primary elsewhere
   * must be stopped or fenced first: two primaries would each take writes), promotes the standby
   * (pg_promote), and lets it commit alone until a standby is rebuilt (`rebuildStandby`, or the
   * next `start()`). Every commit the old primary acknowledged is on the promoted one: the standby
   * was synchronous.
   */
  async promoteStandby(): Promise<void> {
    const standby = this.standby;
    if (!standby) throw new Error('this PostgreSQL cluster runs no standby');
    await this.primary.stop();
    await this.sql('SELECT pg_promote(true, 60)', [], { server: standby });
    await this.sql("ALTER SYSTEM SET synchronous_standby_names = ''", [], { server: standby });
    await this.sql('SELECT pg_reload_conf()', [], { server: standby });
    this.current.primary = standby.name as NodeName;
    this.save();
  }

  /** Stops both servers (fast shutdown). */
  async stop(): Promise<void> {
    await Promise.all(Object.values(this.servers).map((s) => s.stop()));
  }
}
