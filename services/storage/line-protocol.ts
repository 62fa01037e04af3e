/**
 * Line protocol text, built on the hot path (several lines per uplink). Escaping rules are the client library's
 * (`escape` from @influxdata/influxdb-client); values that need none skip it, and tag values, which repeat from
 * uplink to uplink, are escaped once and remembered. Measurement, tag and field *keys* are schema constants or
 * sanitised to [A-Za-z0-9_] by their producers, so they are written as they are.
 */
import { escape } from '@influxdata/influxdb-client';

export type FieldValue = number | boolean | string | { int: number };

/** Integers are written with the `i` suffix so a field never flips between int and float. */
export const int = (n: number): { int: number } => ({ int: Math.trunc(n) });

const NEEDS_TAG_ESCAPE = /[,= \\\n\r]/;
const NEEDS_QUOTE_ESCAPE = /["\\\n\r]/;
const tagCache = new Map<string, string>();

export function escapeTag(value: string): string {
  if (!NEEDS_TAG_ESCAPE.test(value)) return value;
  let e = tagCache.get(value);
  if (e === undefined) {
    e = escape.tag(value.replace(/[\r\n]+/g, ' '));
    if (tagCache.size > 50_000) tagCache.clear();
    tagCache.set(value, e);
  }
  return e;
}

/** ",k1=v1,k2=v2" for the non-empty values, in the given order. */
export function tagString(tags: Record<string, string | undefined>): string {
  let out = '';
  for (const key in tags) {
    const v = tags[key];
    if (v !== undefined && v !== '') out += `,${key}=${escapeTag(v)}`;
  }
  return out;
}

export function fieldText(v: FieldValue | undefined): string | undefined {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      // Newlines would split the line: the spool and /write both work line by line.
      return NEEDS_QUOTE_ESCAPE.test(v) ? escape.quoted(v.replace(/[\r\n]+/g, ' ')) : `"${v}"`;
    case 'object':
      return Number.isFinite(v.int) ? `${v.int}i` : undefined;
    default:
      return undefined;
  }
}

/** A full line from a measurement, a prepared tag string (see tagString) and fields; undefined without fields. */
export function lineWithTags(measurement: string, tags: string, fields: Record<string, FieldValue | undefined>, timeMs: number): string | undefined {
  let body = '';
  for (const key in fields) {
    const text = fieldText(fields[key]);
    if (text !== undefined) body += body ? `,${key}=${text}` : `${key}=${text}`;
  }
  return body ? `${measurement}${tags} ${body} ${Math.trunc(timeMs)}` : undefined;
}

export function line(measurement: string, tags: Record<string, string | undefined>, fields: Record<string, FieldValue | undefined>, timeMs: number): string | undefined {
  return lineWithTags(measurement, tagString(tags), fields, timeMs);
}
