/**
 * The cluster event log on PostgreSQL (schema: ledger/archive/migrations/002_events.sql), the
 * append-only home it gets once it leaves etcd (issue 14). Same EventStore contract as the etcd
 * store (test/contracts/event-store-contract.ts), so the host side (event-log.ts: batches, the
 * shipping mark, the bounded buffer while the store is down) and the merged read
 * (event-query.ts: reorder buffer, watermark, late events) work over it unchanged.
 *
 * As the hosts' role it only INSERTs events, so:
 *  - a batch and its mark are one statement, hence atomic; a batch shipped again after an
 *    unanswered attempt inserts nothing twice (ON CONFLICT DO NOTHING on host, hlc, seq);
 *  - the mark is the one row a host moves forward (UPDATE of hlc and body, nothing else);
 *  - retention appends a floor instead of deleting: reads skip events and marks below the
 *    highest floor. Deleting those rows for good is an operator's job, as the owner role.
 */
import type pg from 'pg';
import { createPgPool, type PgConnectionOptions, runQuery } from '../../ledger/archive/pg-connection';
import type { EventStore } from './event-store';
import type { ClusterEvent, HostMark } from './event-types';

export type PgEventStoreOptions = PgConnectionOptions;

const FLOOR = `(SELECT coalesce(max(before_hlc), '') FROM cluster_event_floors)`;

const APPEND = `
  WITH shipped AS (
    INSERT INTO cluster_events (host, hlc, seq, body)
    SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::text[])
    ON CONFLICT DO NOTHING
  )
  INSERT INTO cluster_event_marks (host, hlc, body) VALUES ($1, $5, $6)
  ON CONFLICT (host) DO UPDATE SET hlc = excluded.hlc, body = excluded.body`;

export class PgEventStore implements EventStore {
  /**
   * One statement takes any batch; a host records two events per payment, so at 100 a batch (the
   * etcd store's limit) a host at 1,000 payments/s sent 20 statements a second, and building them
   * (pg's array escaping, the round trips) was ~6 % of a host's CPU (docs/performance.md).
   */
  readonly maxBatch = 5000;
  private readonly pool: pg.Pool;

  constructor(options: PgEventStoreOptions) {
    this.pool = createPgPool(options);
  }

  async append(host: string, events: ClusterEvent[], mark: HostMark): Promise<void> {
    await runQuery(this.pool, APPEND, [
      host,
      events.map((e) => e.hlc),
      events.map((e) => e.seq),
      events.map((e) => JSON.stringify(e)),
      mark.hlc,
      JSON.stringify(mark),
    ]);
  }

  async marks(): Promise<HostMark[]> {
    const rows = await runQuery<{ body: string }>(
      this.pool,
      `SELECT body FROM cluster_event_marks WHERE hlc >= ${FLOOR} ORDER BY host`,
    );
    return rows.map((r) => JSON.parse(r.body) as HostMark);
  }

  async readHost(host: string, fromHlc: string, limit: number): Promise<ClusterEvent[]> {
    const rows = await runQuery<{ body: string }>(
      this.pool,
      `SELECT body FROM cluster_events
       WHERE host = $1 AND hlc >= $2 COLLATE "C" AND hlc >= ${FLOOR}
       ORDER BY hlc, seq LIMIT $3`,
      [host, fromHlc, limit],
    );
    return rows.map((r) => JSON.parse(r.body) as ClusterEvent);
  }

  async trimBefore(beforeHlc: string): Promise<void> {
    // A floor only ever rises; a lower one (a lagging clock) adds nothing.
    await runQuery(
      this.pool,
      `INSERT INTO cluster_event_floors (before_hlc) SELECT $1 WHERE $1 COLLATE "C" > ${FLOOR}`,
      [beforeHlc],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
