/**
 * The flags of `npm run capture:dashboard` (dev/capture-dashboard.ts), parsed and checked apart
 * from the script so that a bad flag is refused before any process starts, and so a unit test can
 * read them.
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const CAPTURE_HELP = `Usage: npm run capture:dashboard -- [flags]

  --out FILE    where the PNG goes, with a JSON sidecar     default docs/generated/report-figures/dashboard.png
                (FILE with .json for .png: commit, run, load)
  --run-id ID   the report run this capture belongs to, copied into the sidecar
  --seconds N   seconds of load, in two equal halves        default 24 (10 to 120)
  --rate N      payments/s of the second half; the first    default 400 (10 to 5000)
                half offers half as many
  --help        this text
`;

export interface CaptureOptions {
  /** Absolute path of the PNG. */
  out: string;
  /** Absolute path of the JSON sidecar beside it. */
  sidecar: string;
  runId: string | undefined;
  seconds: number;
  rate: number;
  help: boolean;
}

/** A flag the script cannot run with; the message names it. */
export class UsageError extends Error {}

export const DEFAULT_OUT = 'docs/generated/report-figures/dashboard.png';

/** `dashboard.png` → `dashboard.json`, in the same directory; any other name gains `.json`. */
export function sidecarPath(png: string): string {
  const ext = extname(png);
  const stem = ext.toLowerCase() === '.png' ? basename(png, ext) : basename(png);
  return join(dirname(png), `${stem}.json`);
}

function integer(text: string | undefined, fallback: number, flag: string, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${text}`);
  return n;
}

/**
 * Parses the script's arguments (process.argv.slice(2)); relative paths are taken from `root`.
 * @throws UsageError on an unknown flag, a bad number or an empty --run-id
 */
export function parseCaptureOptions(argv: string[], root: string): CaptureOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        'run-id': { type: 'string' },
        seconds: { type: 'string' },
        rate: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  const runId = values['run-id'] as string | undefined;
  if (runId !== undefined && runId.trim() === '') throw new UsageError('--run-id must not be empty');
  const out = resolve(root, (values.out as string | undefined) ?? DEFAULT_OUT);
  return {
    out,
    sidecar: sidecarPath(out),
    runId,
    seconds: integer(values.seconds as string | undefined, 24, '--seconds', 10, 120),
    rate: integer(values.rate as string | undefined, 400, '--rate', 10, 5000),
    help: values.help === true,
  };
}
