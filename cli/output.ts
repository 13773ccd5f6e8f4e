/**
 * How payctl prints: aligned tables for people, one JSON document for scripts (`--json`), and
 * progress on stderr so that stdout stays parseable.
 */

export type Row = Record<string, string | number | boolean | null | undefined>;

/** Columns padded to their widest cell; `—` for a missing value. */
export function table(rows: Row[], columns: string[] = Object.keys(rows[0] ?? {})): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: Row[string]) => (v === undefined || v === null || v === '' ? '—' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.toUpperCase())),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

export interface Printer {
  json: boolean;
  /** The command's result: JSON when --json, else the text. */
  result(value: unknown, text: () => string): void;
  /** A progress line on stderr (kept out of --json output). */
  progress(line: string): void;
}

export function printer(json: boolean): Printer {
  return {
    json,
    result: (value, text) => console.log(json ? JSON.stringify(value, null, 2) : text()),
    progress: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Runs `work`, printing `what … Ns` on stderr each second until it settles. */
export async function withProgress<T>(print: Printer, what: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  print.progress(`${what} …`);
  const timer = setInterval(
    () => print.progress(`${what} … ${Math.round((Date.now() - started) / 1000)}s`),
    1000,
  );
  try {
    const value = await work;
    print.progress(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return value;
  } finally {
    clearInterval(timer);
  }
}
