/**
 * The flags of `npm run capture:dashboard`: where the PNG and its sidecar go, and bad flags
 * refused before any process starts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT, parseCaptureOptions, sidecarPath, UsageError } from '../../dev/capture/capture-options';

const ROOT = '/repo';

describe('parseCaptureOptions', () => {
  it('writes to the report figures by default, with the sidecar beside the PNG and no run id', () => {
    const options = parseCaptureOptions([], ROOT);
    expect(options.out).toBe(`${ROOT}/${DEFAULT_OUT}`);
    expect(options.sidecar).toBe(`${ROOT}/docs/generated/report-figures/dashboard.json`);
    expect(options.runId).toBeUndefined();
    expect([options.seconds, options.rate, options.help]).toEqual([24, 400, false]);
  });

  it('takes --out relative to the checkout, or absolute, and keeps the run id given', () => {
    expect(parseCaptureOptions(['--out', 'results/shot.png'], ROOT).out).toBe(`${ROOT}/results/shot.png`);
    const options = parseCaptureOptions(['--out', '/tmp/x/d.PNG', '--run-id', 'run-42'], ROOT);
    expect([options.out, options.sidecar, options.runId]).toEqual([
      '/tmp/x/d.PNG',
      '/tmp/x/d.json',
      'run-42',
    ]);
  });

  it.each([
    [['--seconds', '5'], /--seconds must be a whole number from 10 to 120, got 5/],
    [['--seconds', '20.5'], /--seconds/],
    [['--rate', 'fast'], /--rate must be a whole number/],
    [['--run-id', ' '], /--run-id must not be empty/],
    [['--outt', 'x.png'], /--outt/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCaptureOptions(argv, ROOT)).toThrow(UsageError);
    expect(() => parseCaptureOptions(argv, ROOT)).toThrow(message);
  });
});

describe('sidecarPath', () => {
  it('replaces a .png extension and appends .json to any other name', () => {
    expect(sidecarPath('/a/dashboard.png')).toBe('/a/dashboard.json');
    expect(sidecarPath('/a/shot')).toBe('/a/shot.json');
    expect(sidecarPath('/a/shot.jpeg')).toBe('/a/shot.jpeg.json');
  });
});
