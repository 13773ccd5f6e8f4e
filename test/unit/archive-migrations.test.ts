/**
 * The migration files (ledger/archive/migrate.ts): versioned plain SQL, read in version order,
 * a version never used twice. Applying them is tested on real PostgreSQL (test/cluster/pg-archive.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../ledger/archive/migrate';

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('archive migrations', () => {
  it('reads NNN_name.sql files in version order and ignores anything else', () => {
    const dir = folder({
      '010_later.sql': 'B',
      '002_first.sql': 'A',
      'README.md': 'x',
      '003_draft.sql~': 'y',
    });
    expect(loadMigrations(dir)).toEqual([
      { version: 2, name: 'first', sql: 'A' },
      { version: 10, name: 'later', sql: 'B' },
    ]);
  });

  it('refuses two files with one version', () => {
    expect(() => loadMigrations(folder({ '001_a.sql': '', '01_b.sql': '' }))).toThrow(
      /two migrations have version 1/,
    );
  });

  it('ships the payment table and the event log, payments as exact text rather than jsonb', () => {
    const shipped = loadMigrations();
    expect(shipped.map((m) => `${m.version} ${m.name}`)).toEqual(['1 payments', '2 events']);
    expect(shipped[0]!.sql).toMatch(/body text NOT NULL/);
    const statements = shipped.map((m) => m.sql.replace(/--.*$/gm, '')).join('\n');
    expect(statements).not.toMatch(/jsonb/i);
  });
});
