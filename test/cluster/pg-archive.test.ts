/**
 * The payment archive on a real PostgreSQL: the contract suite, the exact text in the table, the
 * roles (the hosts' may only SELECT and INSERT), the migrations, and failures mapped to the
 * retryable ArchiveUnavailableError.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveUrls } from '../../dev/cluster/postgres-cluster';
import { loadMigrations, migrate } from '../../ledger/archive/migrate';
import { PgArchive } from '../../ledger/archive/pg-archive';
import { ArchiveUnavailableError, isRetryable } from '../../ledger/errors';
import { serializePayment } from '../../ledger/payment';
import { paymentArchiveContract, stored } from '../contracts/payment-archive-contract';
import { startTestPostgres, type TestPostgres } from '../support/test-postgres';

let postgres: TestPostgres;
let urls: ArchiveUrls;
let archive: PgArchive;
const opened: PgArchive[] = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  urls = await postgres.database();
  archive = new PgArchive({ url: urls.host });
  opened.push(archive);
}, 60_000);

afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
  await postgres?.stop();
});

/** Runs one statement as a role, on a connection of its own. */
async function as(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

paymentArchiveContract('postgresql', async () => archive);

describe('PostgreSQL archive', () => {
  it('stores the exact JSON text in a text column, and int8 sequences beside it', async () => {
    const p = stored({ metadata: { b: '2', a: '1' }, sequence: 9_007_199_254_740_991 });
    await archive.insertMany([p]);
    const { rows } = await as(
      urls.owner,
      'SELECT body, sequence FROM payments WHERE payer = $1 AND id = $2',
      [p.payer, p.id],
    );
    expect(rows[0].body).toBe(serializePayment(p));
    expect(rows[0].sequence).toBe('9007199254740991'); // pg's int8 is a string: never read from it
  });

  it("refuses the host role's UPDATE, DELETE, TRUNCATE and DDL; the owner may", async () => {
    const p = stored();
    await archive.insertMany([p]);
    for (const statement of [
      "UPDATE payments SET body = '{}'",
      'DELETE FROM payments',
      'TRUNCATE payments',
      'DROP TABLE payments',
      'ALTER TABLE payments ADD COLUMN x int',
      'CREATE TABLE sneaky (x int)',
      "UPDATE cluster_events SET body = '{}'",
      'DELETE FROM cluster_events',
      'DELETE FROM cluster_event_marks',
      'SELECT * FROM schema_migrations',
    ]) {
      await expect(as(urls.host, statement), statement).rejects.toThrow(
        /permission denied|must be owner|does not exist/,
      );
    }
    // The denials above are about the role, not the statements: the owner may run them.
    await as(urls.owner, 'UPDATE payments SET host = host WHERE payer = $1', [p.payer]);
    expect((await as(urls.owner, 'SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n).toBe(
      loadMigrations().length,
    );
    expect(await archive.get(p.id, p.payer)).toEqual(p);
  });

  it('applies each migration once: a second run applies nothing', async () => {
    expect(await migrate({ url: urls.owner })).toEqual([]);
    const { rows } = await as(urls.owner, 'SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(loadMigrations().map(({ version, name }) => ({ version, name })));
  });

  it('bounds every statement: a write stuck behind a lock fails with ArchiveUnavailableError', async () => {
    const slow = new PgArchive({ url: urls.host, statementTimeoutMs: 300 });
    opened.push(slow);
    const owner = new pg.Client({ connectionString: urls.owner });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('LOCK TABLE payments IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const refused = await slow.insertMany([stored()]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ArchiveUnavailableError);
      expect(isRetryable(refused)).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await owner.query('ROLLBACK');
      await owner.end();
    }
  });

  it('abandons a call on abort, at once, and answers again afterwards', async () => {
    const owner = new pg.Client({ connectionString: urls.owner });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('LOCK TABLE payments IN ACCESS EXCLUSIVE MODE');
      const controller = new AbortController();
      const pending = archive.findById('anything', { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('client went away')), 100);
      const started = Date.now();
      await expect(pending).rejects.toBeInstanceOf(ArchiveUnavailableError);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await owner.query('ROLLBACK');
      await owner.end();
    }
    await expect(archive.ping()).resolves.toBeUndefined();
  });

  it('answers ArchiveUnavailableError when PostgreSQL is unreachable', async () => {
    const nowhere = new PgArchive({ url: urls.host.replace(/:\d+\//, ':1/'), connectTimeoutMs: 500 });
    opened.push(nowhere);
    await expect(nowhere.ping()).rejects.toBeInstanceOf(ArchiveUnavailableError);
    await expect(nowhere.get('x', 'y')).rejects.toBeInstanceOf(ArchiveUnavailableError);
  });
});
