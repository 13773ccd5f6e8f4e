/**
 * Connections to the archive's PostgreSQL, shared by the payment archive (pg-archive.ts) and the
 * event store (coordination/events/pg-event-store.ts): one pool per store, a server-side
 * statement timeout on every query, a client-side bound in case the server cannot even say so,
 * abort by AbortSignal, and every failure that a retry may cure turned into ArchiveUnavailableError.
 *
 * TLS: an external PostgreSQL is only reached over TLS, with its certificate verified; a server
 * on loopback may be reached without it (the local one of `npm start` and of the tests).
 */
import pg from 'pg';
import { ArchiveUnavailableError } from '../errors';
import { ArchiveConflictError } from './archive-errors';
import type { ArchiveCallOptions } from './payment-archive';

/** The message of every failure of PostgreSQL a client sees; PostgreSQL's own text is the cause (issue 17 §7). */
export const ARCHIVE_UNAVAILABLE_MESSAGE = 'the payment archive is unavailable; retry';

export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /**
   * TLS. Default: off for a loopback host (127.0.0.1, ::1, localhost), otherwise on and verified
   * against the system CAs. `{ ca }` verifies against that CA (PEM). `false` is refused for any
   * host but loopback.
   */
  ssl?: boolean | { ca?: string };
  /**
   * Server-side statement_timeout of every query, ms; the client gives up 1 s later (which also
   * bounds a commit waiting for the synchronous standby). Default 2000.
   */
  statementTimeoutMs?: number;
  /** Bound on opening a connection, ms. Default 2000. */
  connectTimeoutMs?: number;
  /** Most open connections. Default 4. */
  maxConnections?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

export function isLoopbackUrl(url: string): boolean {
  return LOOPBACK.has(new URL(url).hostname);
}

/** The pg `ssl` setting for a URL; throws when `ssl: false` would send credentials in the clear. */
export function resolveSsl(url: string, ssl: PgConnectionOptions['ssl']): false | pg.ConnectionConfig['ssl'] {
  const loopback = isLoopbackUrl(url);
  if (ssl === false || (ssl === undefined && loopback)) {
    if (!loopback) throw new Error(`refusing a plain-text connection to ${new URL(url).host}: use TLS`);
    return false;
  }
  return typeof ssl === 'object' && ssl.ca !== undefined
    ? { ca: ssl.ca, rejectUnauthorized: true }
    : { rejectUnauthorized: true };
}

export function createPgPool({
  url,
  ssl,
  statementTimeoutMs = 2000,
  connectTimeoutMs = 2000,
  maxConnections = 4,
}: PgConnectionOptions): pg.Pool {
  // sslmode in the URL would override `ssl`; TLS is decided here, by resolveSsl, only.
  const parsed = new URL(url);
  parsed.searchParams.delete('sslmode');
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    ssl: resolveSsl(url, ssl),
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1000,
    connectionTimeoutMillis: connectTimeoutMs,
    max: maxConnections,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that the server drops (restart, failover) must not crash the host.
  pool.on('error', () => {});
  return pool;
}

/**
 * SQLSTATE classes a retry may cure: connection exceptions (08), operator intervention such as
 * shutdown or statement timeout (57), insufficient resources (53), serialization failures and
 * deadlocks (40), and a read-only transaction (25006: a standby answered). Others are bugs or
 * integrity violations and are thrown as they are.
 */
const TRANSIENT_SQLSTATE = /^(08|57|53|40)|^25006$/;

function transient(error: unknown): boolean {
  if (error instanceof ArchiveConflictError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return true; // no SQLSTATE: a socket error, timeout or closed pool
  return TRANSIENT_SQLSTATE.test(code) || /^E[A-Z]+$/.test(code); // ECONNREFUSED and friends
}

/**
 * PostgreSQL's answer to a commit whose wait for the synchronous standby was cancelled (by
 * pg_cancel_backend; statement_timeout is switched off before a commit, so the client-side
 * query_timeout is what bounds that wait): committed locally, maybe not on the standby, and pg
 * still resolves. Not durable on two servers, so it counts as a failure (archive writes are
 * idempotent and will be retried).
 */
const UNCONFIRMED_SYNC_COMMIT = /synchronous replication/i;

/**
 * Lends `work` one connection from the pool, bounded and abortable, and maps its failures (see
 * above). `work` may run several statements, e.g. a transaction; it rolls back its own on error.
 */
export async function withConnection<T>(
  pool: pg.Pool,
  { signal }: ArchiveCallOptions,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const aborted = () => new ArchiveUnavailableError('archive call aborted', { cause: signal?.reason });
  if (signal?.aborted) throw aborted();
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new ArchiveUnavailableError(ARCHIVE_UNAVAILABLE_MESSAGE, { cause: error });
  }
  let released = false;
  const release = (destroy?: Error) => {
    if (released) return;
    released = true;
    client.release(destroy);
  };
  // Dropping the connection is the abort: the pending query rejects and the server ends it.
  const onAbort = () => release(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  let unconfirmed: string | undefined;
  const onNotice = (notice: { message?: string }) => {
    if (notice.message && UNCONFIRMED_SYNC_COMMIT.test(notice.message)) unconfirmed = notice.message;
  };
  client.on('notice', onNotice);
  try {
    const result = await work(client);
    if (unconfirmed !== undefined)
      throw new ArchiveUnavailableError(ARCHIVE_UNAVAILABLE_MESSAGE, {
        cause: new Error(`commit not confirmed by the synchronous standby: ${unconfirmed}`),
      });
    return result;
  } catch (error) {
    // A connection that failed or timed out is dropped; one that answered with an SQL error is fine.
    if (error instanceof ArchiveUnavailableError || transient(error)) release(error as Error);
    if (signal?.aborted) throw aborted();
    if (error instanceof ArchiveUnavailableError || !transient(error)) throw error;
    throw new ArchiveUnavailableError(ARCHIVE_UNAVAILABLE_MESSAGE, { cause: error });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    client.off('notice', onNotice);
    release();
  }
}

/** Runs one statement on a connection of its own (withConnection). */
export function runQuery<Row extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[] = [],
  options: ArchiveCallOptions = {},
): Promise<Row[]> {
  return withConnection(pool, options, async (client) => (await client.query<Row>(text, values)).rows);
}
