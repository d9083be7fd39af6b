/**
 * CSV as RFC 4180 writes it, safe to open in a spreadsheet: a field with a comma, a quote or a
 * line break is quoted (quotes doubled); text that a spreadsheet would run as a formula (it
 * begins with =, +, -, @, a tab or a carriage return) is prefixed with an apostrophe, as
 * OWASP's "CSV injection" advice has it. Numbers are written as numbers.
 */

export type CsvCell = string | number | boolean | null | undefined;

/** One field. @example csvField('=1+2') // "'=1+2"; csvField('Lee, "Ann"') // '"Lee, ""Ann"""' */
export function csvField(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One record with its CRLF line end. */
export function csvLine(cells: readonly CsvCell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** A file name safe in a Content-Disposition header: letters, digits, dot, dash and underscore only. */
export function csvFileName(...parts: (string | number | undefined)[]): string {
  const stem = parts
    .filter((p) => p !== undefined && p !== '')
    .map((p) => String(p).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((p) => p.length > 0)
    .join('-')
    .slice(0, 120);
  return `${stem || 'export'}.csv`;
}
