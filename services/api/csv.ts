/**
 * CSV for open data: RFC 4180 (comma, CRLF, quotes doubled), UTF-8, one header row. The columns are documented
 * in docs/api.md and a test checks that the document and these constants agree. Text cells that a spreadsheet
 * would run as a formula (=, +, -, @ first) get a leading apostrophe: device names come from the field.
 */
export const READINGS_CSV_COLUMNS = ['time_utc', 'tenant', 'site', 'dev_eui', 'device', 'channel', 'quantity', 'value', 'unit'] as const;
export const DAILY_CSV_COLUMNS = ['date', 'time_zone', 'tenant', 'site', 'dev_eui', 'device', 'channel', 'quantity', 'statistic', 'value', 'unit'] as const;

type Cell = string | number | null | undefined;

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(columns: readonly string[], rows: Record<string, Cell>[]): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

/** The local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(t: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
}
