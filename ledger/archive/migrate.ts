/**
 * Schema migrations of the archive: the plain SQL files in ./migrations, named
 * `NNN_description.sql`, applied in order, each in its own transaction together with its row in
 * `schema_migrations`, so a migration is applied entirely or not at all, and exactly once. A
 * transaction-scoped advisory lock makes concurrent runners (two launchers, or hosts starting
 * together) wait for each other instead of racing.
 *
 * Run as the owner role (ARCHIVE_ROLES.owner), which may do DDL; the migrations grant the host
 * role (ARCHIVE_ROLES.host) what it may do, so both roles must exist first (see
 * dev/cluster/postgres-cluster.ts, or docs for an external PostgreSQL).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type PgConnectionOptions, resolveSsl } from './pg-connection';

/** The role names the migrations grant to. */
export const ARCHIVE_ROLES = {
  /** Owns the tables and runs the migrations. */
  owner: 'payments_owner',
  /** The function hosts: SELECT and INSERT only. */
  host: 'payments_host',
} as const;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations in `dir`, by ascending version; refuses two files with one version. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => /^(\d+)_([\w-]+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([file, version, name]) => ({
      version: Number(version),
      name: name!,
      sql: readFileSync(`${dir}/${file}`, 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
  const clash = migrations.find((m, i) => i > 0 && migrations[i - 1]!.version === m.version);
  if (clash) throw new Error(`two migrations have version ${clash.version}`);
  return migrations;
}

export interface MigrateOptions extends Pick<PgConnectionOptions, 'url' | 'ssl'> {
  /** Default: every file in MIGRATIONS_DIR. */
  migrations?: Migration[];
  /** Default: silent. */
  log?: (line: string) => void;
}

/** Applies the migrations not applied yet; returns their versions. */
export async function migrate({
  url,
  ssl,
  migrations = loadMigrations(),
  log = () => {},
}: MigrateOptions): Promise<number[]> {
  const client = new pg.Client({ connectionString: url, ssl: resolveSsl(url, ssl) });
  await client.connect();
  const applied: number[] = [];
  try {
    for (const migration of migrations) {
      await client.query('BEGIN');
      try {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))");
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version int PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
          migration.version,
        ]);
        if (done.rowCount === 0) {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          applied.push(migration.version);
          log(`applied migration ${migration.version} ${migration.name}`);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(
          `migration ${migration.version} ${migration.name} failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
  return applied;
}
