/**
 * How a host reaches the archive's PostgreSQL: ARCHIVE_URL and friends (functions/config.ts), and
 * the TLS rule (ledger/archive/pg-connection.ts): loopback may go without, anything else may not.
 */
import { describe, expect, it } from 'vitest';
import { archiveConnection } from '../../functions/archive-connection';
import { readHostConfig } from '../../functions/config';
import { isLoopbackUrl, resolveSsl } from '../../ledger/archive/pg-connection';

describe('archive configuration', () => {
  it('has no archive unless ARCHIVE_URL is set, and reads its settings when it is', () => {
    expect(readHostConfig({}).archive).toBeUndefined();
    expect(
      readHostConfig({
        ARCHIVE_URL: 'postgres://payments_host:pw@db.internal:5432/payments',
        ARCHIVE_CA_FILE: '/ca.pem',
      }).archive,
    ).toEqual({
      url: 'postgres://payments_host:pw@db.internal:5432/payments',
      caFile: '/ca.pem',
      statementTimeoutMs: 2000,
      hotWindowMs: 3_600_000,
      testPauseAfterInsertMs: 0,
    });
    expect(() => readHostConfig({ ARCHIVE_URL: 'http://db.internal/payments' })).toThrow(/ARCHIVE_URL/);
  });

  it('reads ARCHIVAL_MIN_BATCH (default 8192) and ARCHIVAL_MAX_DELAY_MS (default 10 s), the archival batching', () => {
    expect(readHostConfig({}).archival).toEqual({ minBatch: 8192, maxDelayMs: 10_000 });
    expect(readHostConfig({ ARCHIVAL_MIN_BATCH: '1', ARCHIVAL_MAX_DELAY_MS: '0' }).archival).toEqual({
      minBatch: 1,
      maxDelayMs: 0,
    });
    expect(() => readHostConfig({ ARCHIVAL_MIN_BATCH: '0' })).toThrow(/ARCHIVAL_MIN_BATCH/);
    expect(() => readHostConfig({ ARCHIVAL_MAX_DELAY_MS: '-1' })).toThrow(/ARCHIVAL_MAX_DELAY_MS/);
  });

  it('reads the test-only ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS (default 0: no pause) and refuses a negative one', () => {
    const url = 'postgres://payments_host:pw@127.0.0.1:5432/payments';
    const pause = (text?: string) =>
      readHostConfig({ ARCHIVE_URL: url, ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS: text }).archive
        ?.testPauseAfterInsertMs;
    expect(pause()).toBe(0);
    expect(pause('1500')).toBe(1500);
    expect(() => pause('-1')).toThrow(/ARCHIVAL_TEST_PAUSE_AFTER_INSERT_MS/);
  });

  it('reads LEDGER_HOT_WINDOW as a duration (default 1h) and refuses anything else', () => {
    const url = 'postgres://payments_host:pw@127.0.0.1:5432/payments';
    const window = (text: string) =>
      readHostConfig({ ARCHIVE_URL: url, LEDGER_HOT_WINDOW: text }).archive?.hotWindowMs;
    expect(window('20s')).toBe(20_000);
    expect(window('15m')).toBe(900_000);
    expect(window('24h')).toBe(86_400_000);
    expect(window('500ms')).toBe(500);
    for (const bad of ['', '20', '1.5h', '-1s', '3 weeks'])
      expect(() => readHostConfig({ ARCHIVE_URL: url, LEDGER_HOT_WINDOW: bad })).toThrow(/LEDGER_HOT_WINDOW/);
  });

  it('turns the configuration into connection options, with the CA read from its file', () => {
    const { archive } = readHostConfig({
      ARCHIVE_URL: 'postgres://payments_host:pw@db.internal:5432/payments',
      ARCHIVE_CA_FILE: '/etc/pay/ca.pem',
      ARCHIVE_STATEMENT_TIMEOUT_MS: '750',
    });
    const read: string[] = [];
    const options = archiveConnection(archive!, (path) => {
      read.push(path);
      return 'CA PEM';
    });
    expect(options).toEqual({
      url: 'postgres://payments_host:pw@db.internal:5432/payments',
      ssl: { ca: 'CA PEM' },
      statementTimeoutMs: 750,
    });
    expect(read).toEqual(['/etc/pay/ca.pem']);
    expect(archiveConnection({ ...archive!, caFile: undefined }).ssl).toBeUndefined();
  });
});

describe('archive TLS', () => {
  const external = 'postgres://u:p@db.internal:5432/payments';
  it('uses no TLS on loopback unless asked, and verified TLS to any other host', () => {
    for (const url of [
      'postgres://u:p@127.0.0.1:5432/d',
      'postgres://u:p@localhost/d',
      'postgres://u:p@[::1]:5/d',
    ]) {
      expect(isLoopbackUrl(url)).toBe(true);
      expect(resolveSsl(url, undefined)).toBe(false);
    }
    expect(resolveSsl('postgres://u:p@127.0.0.1/d', true)).toEqual({ rejectUnauthorized: true });
    expect(resolveSsl(external, undefined)).toEqual({ rejectUnauthorized: true });
    expect(resolveSsl(external, { ca: 'PEM' })).toEqual({ ca: 'PEM', rejectUnauthorized: true });
  });

  it('refuses a plain-text connection to a host other than loopback', () => {
    expect(() => resolveSsl(external, false)).toThrow(/refusing a plain-text connection to db.internal:5432/);
    expect(isLoopbackUrl('postgres://u:p@127.0.0.2.example.com/d')).toBe(false);
  });
});
