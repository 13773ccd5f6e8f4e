/**
 * Fills `{{name}}` placeholders in dev/report/templates/report.template.md (and the slides template) with figures
 * from the generated JSON, so that every number in the prose comes from a command anyone can run.
 * A placeholder with no value is an error rather than a blank, so a renamed figure cannot slip
 * through as empty text.
 */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  const missing = new Set<string>();
  const filled = template.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    return String(value);
  });
  if (missing.size > 0) throw new Error(`template placeholders without a value: ${[...missing].join(', ')}`);
  return filled;
}

/** A table cell: a `|` inside would end the cell early. */
const cell = (x: string | number) => String(x).replace(/\|/g, '\\|');

/** A Markdown table from rows of equal keys. */
export function markdownTable(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '_(no rows)_\n';
  const header = Object.keys(rows[0]!);
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${header.map((h) => cell(r[h] ?? '')).join(' | ')} |`),
    '',
  ].join('\n');
}
