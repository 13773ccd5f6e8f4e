/**
 * The payment archive on PostgreSQL (schema: migrations/001_payments.sql), as the host role,
 * which may only SELECT and INSERT. Each payment's exact JSON text is stored and returned as it
 * is; the other columns serve lookups and ordering. int8 columns come back from pg as strings,
 * so sequences are read from the JSON text, never from a column.
 */
import type pg from 'pg';
import { HISTORY_PAGE_BYTES, type HistoryPage, type HistoryQuery, MAX_PAYMENTS_PER_ID } from '../ledger';
import { type StoredPayment, serializePayment } from '../payment';
import { ArchiveConflictError } from './archive-errors';
import type {
  ArchiveCallOptions,
  ArchiveFindByIdOptions,
  ArchiveInsertOutcome,
  PaymentArchive,
} from './payment-archive';
import { createPgPool, type PgConnectionOptions, runQuery, withConnection } from './pg-connection';

export type PgArchiveOptions = PgConnectionOptions;

const INSERT = `
  INSERT INTO payments (payer, id, payee, sequence, committed_at, hlc, host, body)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::timestamptz[], $6::text[],
                       $7::text[], $8::text[])
  ORDER BY 4
  ON CONFLICT (payer, id) DO NOTHING`;

/** Payments of the batch stored with other text: a conflict (checked after the insert, in its transaction). */
const DIFFERING = `
  SELECT p.payer, p.id FROM payments p
  JOIN unnest($1::text[], $2::text[], $3::text[]) AS b(payer, id, body) USING (payer, id)
  WHERE p.body <> b.body LIMIT 1`;

/** One side of an account's history; `side` is a fixed column name, never input. */
const historySide = (side: 'payer' | 'payee') => `
  (SELECT body, sequence FROM payments
   WHERE ${side} = $1 AND sequence > $2
     AND ($3::timestamptz IS NULL OR committed_at >= $3)
     AND ($4::timestamptz IS NULL OR committed_at < $4)
   ORDER BY sequence LIMIT $5)`;

/**
 * payer <> payee always (a CHECK constraint), so the two sides never hold the same row. The page
 * is cut by bytes in the query, so no more than about HISTORY_PAGE_BYTES ($6) leave the server:
 * a row is in the page while the bytes before it are under the budget (so the first always is),
 * and the first row past the cut comes too, only to say that there is more.
 */
const HISTORY = `
  SELECT body, before < $6 AS in_page FROM (
    SELECT body, sequence, lag(before, 1, 0::bigint) OVER (ORDER BY sequence) AS before_previous, before
    FROM (
      SELECT body, sequence, coalesce(sum(octet_length(body)) OVER (ORDER BY sequence
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0::bigint) AS before
      FROM (${historySide('payer')} UNION ALL ${historySide('payee')}) AS side
    ) AS sized
  ) AS page
  WHERE before_previous < $6
  ORDER BY sequence LIMIT $5`;

const parse = (rows: { body: string }[]): StoredPayment[] => rows.map((r) => JSON.parse(r.body));

export class PgArchive implements PaymentArchive {
  private readonly pool: pg.Pool;

  constructor(options: PgArchiveOptions) {
    this.pool = createPgPool(options);
  }

  async insertMany(
    payments: StoredPayment[],
    options: ArchiveCallOptions = {},
  ): Promise<ArchiveInsertOutcome> {
    if (payments.length === 0) return { inserted: 0, alreadyArchived: 0 };
    const bodies = payments.map(serializePayment);
    const columns = [
      payments.map((p) => p.payer),
      payments.map((p) => p.id),
      payments.map((p) => p.payee),
      payments.map((p) => p.sequence),
      payments.map((p) => p.committedAt),
      payments.map((p) => p.hlc ?? null),
      payments.map((p) => p.host),
      bodies,
    ];
    return withConnection(this.pool, options, async (client) => {
      await client.query('BEGIN');
      try {
        const inserted = (await client.query(INSERT, columns)).rowCount ?? 0;
        const differing = await client.query(DIFFERING, [columns[0], columns[1], bodies]);
        if (differing.rowCount) {
          const { id, payer } = differing.rows[0];
          throw new ArchiveConflictError(`payment ${id} of payer ${payer} is archived with other content`);
        }
        await client.query('COMMIT');
        return {
          inserted,
          alreadyArchived: new Set(payments.map((p) => `${p.payer}/${p.id}`)).size - inserted,
        };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        if ((error as { constraint?: string }).constraint === 'payments_sequence_unique')
          throw new ArchiveConflictError(`a sequence of the batch is archived for another payment`);
        throw error;
      }
    });
  }

  async get(id: string, payer: string, options?: ArchiveCallOptions): Promise<StoredPayment | undefined> {
    const rows = await runQuery<{ body: string }>(
      this.pool,
      'SELECT body FROM payments WHERE payer = $1 AND id = $2',
      [payer, id],
      options,
    );
    return parse(rows)[0];
  }

  async findById(id: string, options?: ArchiveFindByIdOptions): Promise<StoredPayment[]> {
    const rows = await runQuery<{ body: string }>(
      this.pool,
      `SELECT body FROM payments
       WHERE id = $1 AND ($3::text[] IS NULL OR payer = ANY($3) OR payee = ANY($3))
       ORDER BY sequence LIMIT $2`,
      [id, MAX_PAYMENTS_PER_ID, options?.accounts ?? null],
      options,
    );
    return parse(rows);
  }

  async history(
    { account, from, to, limit, afterSequence = 0 }: HistoryQuery,
    options?: ArchiveCallOptions,
  ): Promise<HistoryPage> {
    const rows = await runQuery<{ body: string; in_page: boolean }>(
      this.pool,
      HISTORY,
      [account, afterSequence, from ?? null, to ?? null, limit + 1, HISTORY_PAGE_BYTES],
      options,
    );
    const payments = parse(rows.filter((r) => r.in_page)).slice(0, limit);
    return { payments, continueAfter: rows.length > payments.length ? payments.at(-1)?.sequence : undefined };
  }

  async ping(options?: ArchiveCallOptions): Promise<void> {
    await runQuery(this.pool, 'SELECT 1', [], options);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
