/**
 * The header every measurement JSON carries for `npm run report` (the report contract): the command
 * line with its flags, when it started, the commit, and the report run's id only when one was given.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measurementHeader, writeMeasurementJson } from '../../dev/measure-output';

describe('measurement JSON header', () => {
  it('copies --run-id into runId and names the command with its flags and the commit', () => {
    const header = measurementHeader('measure:time', 'r7', ['--json', 'x.json', '--run-id', 'r7']);
    expect(header.runId).toBe('r7');
    expect(header.command).toBe('npm run measure:time -- --json x.json --run-id r7');
    expect(header.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(Date.parse(header.startedAt)).not.toBeNaN();
  });

  it('writes no runId when none was given', () => {
    const header = measurementHeader('measure:time', undefined, []);
    expect(header.command).toBe('npm run measure:time');
    expect('runId' in header).toBe(false);
  });

  it('writes the JSON, creating its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'measure-output-'));
    try {
      const file = join(dir, 'nested', 'time.json');
      writeMeasurementJson(file, { command: 'c', accuracy: [] });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ command: 'c', accuracy: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
