/**
 * CSV as Veilleur writes it for exports and reports: RFC 4180 (comma, CRLF, quotes doubled), UTF-8, dot decimals,
 * one header row. Text cells a spreadsheet would run as a formula (=, +, -, @ first) get a leading apostrophe:
 * device names come from the field. Also after leading blanks (some spreadsheets trim them), their full-width forms
 * (＝＋－＠, as a precaution) and a leading tab or carriage return (OWASP, "CSV injection").
 */
const FORMULA = /^[\t\r]|^[ \u00a0]*[=+\-@\uff1d\uff0b\uff0d\uff20]/;

export type CsvCell = string | number | boolean | null | undefined;

export function csvCell(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return String(v);
  const safe = FORMULA.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(columns: readonly string[], rows: readonly Record<string, CsvCell>[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
}
