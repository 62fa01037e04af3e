/** Line protocol text for one point; escaping from @influxdata/influxdb-client so every edge case is the library's. */
import { escape } from '@influxdata/influxdb-client';

export type FieldValue = number | boolean | string | { int: number };

/** Integers are written with the `i` suffix so a field never flips between int and float. */
export const int = (n: number): { int: number } => ({ int: Math.trunc(n) });

export function line(
  measurement: string,
  tags: Record<string, string | undefined>,
  fields: Record<string, FieldValue | undefined>,
  timeMs: number,
): string | undefined {
  let out = escape.measurement(measurement);
  // Sorted tag keys: InfluxDB's preferred order, and a stable identity for the same point.
  for (const key of Object.keys(tags).sort()) {
    const v = tags[key];
    if (v !== undefined && v !== '') out += `,${escape.tag(key)}=${escape.tag(v)}`;
  }
  let sep = ' ';
  let any = false;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    const text = fieldText(v);
    if (text === undefined) continue;
    out += `${sep}${escape.tag(key)}=${text}`;
    sep = ',';
    any = true;
  }
  return any ? `${out} ${Math.trunc(timeMs)}` : undefined;
}

function fieldText(v: FieldValue | undefined): string | undefined {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      // Newlines would split the line; the spool and /write both work line by line.
      return escape.quoted(v.replace(/[\r\n]+/g, ' '));
    case 'object':
      return Number.isFinite(v.int) ? `${v.int}i` : undefined;
    default:
      return undefined;
  }
}
