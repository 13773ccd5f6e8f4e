/**
 * Every figure in docs/generated/report.md and slides.md must come from one run: the documents
 * must equal their templates filled from the committed values.json, values.json must equal what
 * the committed raw outputs give, and every raw file must carry the run id values.json names.
 * The second part checks the same machinery on a small fixture run (test/fixtures/report/).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DOCUMENTS, fillDocument, readRunInfo, renderRun, tableFragments } from '../../dev/report/render';
import { fillTemplate } from '../../dev/report/template';
import { VALUE_KEYS } from '../../dev/report/value-keys';
import { buildValues, checkKeys, type Values } from '../../dev/report/values';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIGURES = join(ROOT, 'docs', 'generated', 'report-figures');
const RAW = join(FIGURES, 'raw');
const TEMPLATES = join(ROOT, 'dev', 'report', 'templates');
const FIXTURE_RAW = join(ROOT, 'test', 'fixtures', 'report', 'raw');
const FIXTURE_TEMPLATES = join(ROOT, 'test', 'fixtures', 'report', 'templates');

const placeholders = (text: string) =>
  [...text.matchAll(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g)].map((m) => m[1]!);
const rawJsonFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'run.json');

describe('the committed report is one run, filled from its values', () => {
  const values = JSON.parse(readFileSync(join(FIGURES, 'values.json'), 'utf8')) as Values;

  it('every raw file carries the run id of values.json', () => {
    const others = rawJsonFiles(RAW)
      .map((f) => ({
        f,
        runId: (JSON.parse(readFileSync(join(RAW, f), 'utf8')) as { runId?: string }).runId,
      }))
      .filter(({ runId }) => runId !== values['run.id']);
    expect(others, `raw files of another run than ${values['run.id']}`).toEqual([]);
    expect(readRunInfo(RAW).runId).toBe(values['run.id']);
  });

  it('values.json is what the raw outputs of that run give', () => {
    expect(values).toEqual(buildValues(RAW, readRunInfo(RAW)));
  });

  it('each table file under report-figures/ is its table in values.json', () => {
    for (const [name, md] of Object.entries(tableFragments(values)))
      expect(readFileSync(join(FIGURES, name), 'utf8'), name).toBe(md);
  });

  it.each(DOCUMENTS)('the %s template uses only keys values.json has', (doc) => {
    const template = readFileSync(join(TEMPLATES, `${doc}.template.md`), 'utf8');
    expect(placeholders(template).filter((k) => values[k] === undefined)).toEqual([]);
  });

  it.each(DOCUMENTS)('docs/generated/%s.md equals its template filled from values.json', (doc) => {
    const template = readFileSync(join(TEMPLATES, `${doc}.template.md`), 'utf8');
    const committed = readFileSync(join(ROOT, 'docs', 'generated', `${doc}.md`), 'utf8');
    expect(committed).toBe(fillDocument(template, values, doc));
  });
});

describe('the report pipeline on a fixture run', () => {
  const run = readRunInfo(FIXTURE_RAW);
  const values = buildValues(FIXTURE_RAW, run);
  const scratch = mkdtempSync(join(tmpdir(), 'report-consistency-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the fixture run with one raw file edited. */
  function withEdited(file: string, edit: (json: Record<string, unknown>) => void): string {
    const dir = mkdtempSync(join(scratch, 'raw-'));
    cpSync(FIXTURE_RAW, dir, { recursive: true });
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    edit(json);
    writeFileSync(join(dir, file), JSON.stringify(json));
    return dir;
  }

  it('holds exactly the contract keys, with KEY.median beside each Stat', () => {
    expect(() => checkKeys(values)).not.toThrow();
    for (const key of VALUE_KEYS) expect(values[key], key).toBeDefined();
    expect(() => checkKeys({ ...values, 'bench.best': '1' })).toThrow(/extra bench\.best/);
    const { 'opt.gain': _, ...missing } = values;
    expect(() => checkKeys(missing)).toThrow(/missing opt\.gain/);
  });

  it('renders a Stat as median (min–max) and KEY.median as the median alone', () => {
    expect(values['bench.e2eMax']).toBe('2,643 (2,410–2,700)');
    expect(values['bench.e2eMax.median']).toBe('2,643');
    expect(values['bench.ceilingShare.median']).toBe('28 %');
    expect(values['redundancy.m1.bytes']).toBe('700 (1 member)');
  });

  it('refuses a raw file of another run', () => {
    const dir = withEdited('time.json', (j) => {
      j.runId = 'an-older-run';
    });
    expect(() => buildValues(dir, run)).toThrow(/time\.json belongs to run "an-older-run"/);
  });

  it('refuses a raw file without a run id', () => {
    const dir = withEdited('chaos.json', (j) => {
      delete j.runId;
    });
    expect(() => buildValues(dir, run)).toThrow(/chaos\.json belongs to run undefined/);
  });

  it('refuses a raw file that lacks a figure of the contract', () => {
    const dir = withEdited('bench.json', (j) => {
      delete j.etcdMetrics;
    });
    expect(() => buildValues(dir, run)).toThrow(/etcdMetrics/);
  });

  it('fillTemplate throws on a key values.json lacks, naming it', () => {
    expect(() => fillTemplate('{{bench.e2eMax}} and {{bench.best}}', values)).toThrow(/bench\.best/);
    expect(() => fillDocument('{{no.such.key}}', values, 'report')).toThrow(/no\.such\.key/);
  });

  it('fills both documents and draws the figures of the run', () => {
    const rendered = renderRun(FIXTURE_RAW, FIXTURE_TEMPLATES);
    expect(rendered.values).toEqual(values);
    expect(rendered.documents.slides.startsWith('---\nmarp: true\n---\n<!-- Generated')).toBe(true);
    expect(rendered.documents.report).toContain(`- opt.gain: ${values['opt.gain']}`);
    expect(rendered.documents.report).not.toMatch(/\{\{/);
    for (const svg of ['elections.svg', 'clock-offsets.svg'])
      expect(rendered.figures[svg], svg).toContain(`Run ${run.runId}`);
    expect(rendered.figures['elections.svg']).toContain(
      `median ${values['elections.median']!.replace(',', '')} ms`,
    );
  });
});
