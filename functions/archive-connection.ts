/**
 * The host's connection settings for the archive's PostgreSQL, from its configuration
 * (functions/config.ts: ARCHIVE_URL, ARCHIVE_CA_FILE, ARCHIVE_STATEMENT_TIMEOUT_MS), for the
 * payment archive (ledger/archive/pg-archive.ts) and the event store
 * (coordination/events/pg-event-store.ts). Read once, at start-up: the CA file is read here.
 */
import { readFileSync } from 'node:fs';
import type { PgConnectionOptions } from '../ledger/archive/pg-connection';
import type { HostConfig } from './config';

export function archiveConnection(
  archive: NonNullable<HostConfig['archive']>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): PgConnectionOptions {
  return {
    url: archive.url,
    // Unset: TLS decided by the host (pg-connection.ts resolveSsl): off on loopback, verified elsewhere.
    ssl: archive.caFile === undefined ? undefined : { ca: readFile(archive.caFile) },
    statementTimeoutMs: archive.statementTimeoutMs,
  };
}
