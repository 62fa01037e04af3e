/**
 * What a panel shows: InfluxDB's answer turned into Grafana data frames, and the panel's transformations applied as
 * Grafana applies them, for the transformations the dashboards use. Arithmetic is JavaScript's, as in Grafana's
 * "Add field from calculation" (a missing value counts as 0: 0/0 is NaN, x/0 Infinity), and "Group by" sums skip
 * missing values (a group of nothing but nulls sums to 0): the two behaviours that made months without data show
 * NaN or 0.
 */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';

export type Value = number | string | boolean | null;

export interface Field {
  name: string;
  values: Value[];
}

export interface Frame {
  refId?: string;
  fields: Field[];
}

interface InfluxSeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/**
 * Grafana's InfluxQL frames: in table format one frame per query (every series, its tags as columns, `time` as
 * `Time`); in time-series format one frame per series and value column.
 */
export function framesOf(refId: string, format: 'table' | 'time_series', series: readonly InfluxSeries[]): Frame[] {
  const cell = (v: unknown): Value => (v === undefined ? null : (v as Value));
  const columnName = (c: string) => (c === 'time' ? 'Time' : c);
  if (format === 'time_series') {
    return series.flatMap((s) =>
      s.columns.slice(1).map((c, i) => ({ refId, fields: [{ name: 'Time', values: s.values.map((r) => cell(r[0])) }, { name: c, values: s.values.map((r) => cell(r[i + 1])) }] })),
    );
  }
  const tagKeys = [...new Set(series.flatMap((s) => Object.keys(s.tags ?? {})))].sort();
  const columns = [...new Set(series.flatMap((s) => s.columns))];
  const names = [columns[0]!, ...tagKeys, ...columns.slice(1)];
  const rows = series.flatMap((s) => s.values.map((r) => names.map((n) => (tagKeys.includes(n) && !s.columns.includes(n) ? cell(s.tags?.[n] ?? '') : cell(r[s.columns.indexOf(n)])))));
  return [{ refId, fields: names.map((n, i) => ({ name: columnName(n), values: rows.map((r) => r[i]!) })) }];
}

const rowsOf = (f: Frame): Value[][] => Array.from({ length: f.fields[0]?.values.length ?? 0 }, (_, i) => f.fields.map((x) => x.values[i] ?? null));
const fromRows = (names: string[], rows: Value[][], refId?: string): Frame => ({ ...(refId ? { refId } : {}), fields: names.map((name, i) => ({ name, values: rows.map((r) => r[i] ?? null) })) });
const field = (f: Frame, name: string) => f.fields.find((x) => x.name === name);

type Options = Record<string, unknown>;

function formatTime(t: number, format: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23', weekday: 'short' })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  const isoWeekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!) + 1;
  if (format === 'YYYY-MM') return `${parts.year}-${parts.month}`;
  if (format === 'E HH') return `${isoWeekday} ${parts.hour}`;
  throw new Error(`time format '${format}' not modelled`);
}

function reduce(values: Value[], how: string): Value {
  const present = values.filter((v) => v !== null);
  switch (how) {
    case 'sum':
      return present.reduce<number>((s, v) => s + Number(v), 0);
    case 'last':
      return values.at(-1) ?? null;
    case 'lastNotNull':
      return present.at(-1) ?? null;
    default:
      throw new Error(`aggregation '${how}' not modelled`);
  }
}

function matches(v: Value, config: { id: string; options?: { value?: string } }): boolean {
  if (config.id === 'isNull') return v === null;
  if (config.id === 'regex') return v !== null && new RegExp(config.options?.value ?? '').test(String(v));
  throw new Error(`value matcher '${config.id}' not modelled`);
}

const OPERATORS: Record<string, (a: number, b: number) => number> = { '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b };

/** One transformation on every frame it applies to (`filter: byRefId` as in Grafana 11). */
function transform(frames: Frame[], t: DataTransformerConfig): Frame[] {
  const o = (t.options ?? {}) as Options;
  const only = t.filter?.id === 'byRefId' ? String(t.filter.options) : undefined;
  const applies = (f: Frame) => only === undefined || f.refId === only;
  const each = (fn: (f: Frame) => Frame): Frame[] => frames.map((f) => (applies(f) ? fn(f) : f));
  switch (t.id) {
    case 'formatTime':
      return each((f) => ({
        ...f,
        fields: f.fields.map((x) => (x.name === o.timeField ? { name: x.name, values: x.values.map((v) => (v === null ? null : formatTime(Number(v), String(o.outputFormat), String(o.timezone)))) } : x)),
      }));
    case 'groupBy': {
      const spec = o.fields as Record<string, { operation: 'groupby' | 'aggregate'; aggregations: string[] }>;
      const keys = Object.keys(spec).filter((k) => spec[k]!.operation === 'groupby');
      const aggregates = Object.keys(spec).filter((k) => spec[k]!.operation === 'aggregate');
      return each((f) => {
        if (!keys.every((k) => field(f, k))) return f;
        const groups = new Map<string, number[]>();
        rowsOf(f).forEach((_, i) => {
          const k = JSON.stringify(keys.map((n) => field(f, n)!.values[i]));
          groups.set(k, [...(groups.get(k) ?? []), i]);
        });
        const names = [...keys];
        const out: Value[][] = [...groups.values()].map((idx) => keys.map((k) => field(f, k)!.values[idx[0]!]!));
        for (const a of aggregates.filter((n) => field(f, n))) {
          for (const how of spec[a]!.aggregations) {
            names.push(`${a} (${how})`);
            [...groups.values()].forEach((idx, g) => out[g]!.push(reduce(idx.map((i) => field(f, a)!.values[i]!), how)));
          }
        }
        return fromRows(names, out, f.refId);
      });
    }
    case 'joinByField': {
      const by = String(o.byField);
      const inputs = frames.filter((f) => applies(f) && field(f, by));
      const rest = frames.filter((f) => !inputs.includes(f));
      const keysPer = inputs.map((f) => new Set(field(f, by)!.values.map((v) => JSON.stringify(v))));
      const allKeys = [...new Set(keysPer.flatMap((s) => [...s]))];
      const keys = o.mode === 'inner' ? allKeys.filter((k) => keysPer.every((s) => s.has(k))) : allKeys;
      const names = [by, ...inputs.flatMap((f) => f.fields.filter((x) => x.name !== by).map((x) => x.name))];
      const rows = keys.map((k) => [
        JSON.parse(k) as Value,
        ...inputs.flatMap((f) => {
          const i = field(f, by)!.values.findIndex((v) => JSON.stringify(v) === k);
          return f.fields.filter((x) => x.name !== by).map((x) => (i < 0 ? null : x.values[i]!));
        }),
      ]);
      return [fromRows(names, rows), ...rest];
    }
    case 'merge': {
      const inputs = frames.filter(applies);
      const names = [...new Set(inputs.flatMap((f) => f.fields.map((x) => x.name)))];
      const common = names.filter((n) => inputs.every((f) => field(f, n)));
      const merged = new Map<string, Value[]>();
      for (const f of inputs) {
        for (const r of rowsOf(f)) {
          const row = names.map((n) => {
            const i = f.fields.findIndex((x) => x.name === n);
            return i < 0 ? null : r[i]!;
          });
          const key = JSON.stringify(common.map((n) => row[names.indexOf(n)]));
          const into = merged.get(key);
          if (!into) merged.set(key, row);
          else row.forEach((v, i) => (into[i] = into[i] ?? v));
        }
      }
      return [fromRows(names, [...merged.values()]), ...frames.filter((f) => !applies(f))];
    }
    case 'calculateField': {
      if (o.mode !== 'binary') throw new Error(`calculateField mode '${String(o.mode)}' not modelled`);
      const b = o.binary as { left: { matcher: { options: string } }; operator: string; right: { matcher: { options: string } } };
      return each((f) => {
        const l = field(f, b.left.matcher.options);
        const r = field(f, b.right.matcher.options);
        if (!l || !r) return f;
        // Grafana's operators on raw values: a null is 0 to JavaScript arithmetic.
        const values = l.values.map((v, i) => OPERATORS[b.operator]!(v as number, r.values[i] as number));
        return { ...f, fields: [...(o.replaceFields ? [] : f.fields), { name: String(o.alias), values }] };
      });
    }
    case 'filterByValue': {
      const filters = o.filters as { fieldName: string; config: { id: string; options?: { value?: string } } }[];
      return each((f) => {
        const keep = rowsOf(f).map((_, i) => {
          const hits = filters.map((c) => field(f, c.fieldName) !== undefined && matches(field(f, c.fieldName)!.values[i]!, c.config));
          const hit = o.match === 'all' ? hits.every(Boolean) : hits.some(Boolean);
          return o.type === 'include' ? hit : !hit;
        });
        return { ...f, fields: f.fields.map((x) => ({ name: x.name, values: x.values.filter((_, i) => keep[i]) })) };
      });
    }
    case 'organize': {
      const exclude = (o.excludeByName ?? {}) as Record<string, boolean>;
      const rename = (o.renameByName ?? {}) as Record<string, string>;
      const index = (o.indexByName ?? {}) as Record<string, number>;
      return each((f) => ({
        ...f,
        fields: f.fields
          .filter((x) => !exclude[x.name])
          .map((x, i) => ({ x, at: index[x.name] ?? 1000 + i }))
          .sort((a, b) => a.at - b.at)
          .map(({ x }) => ({ name: rename[x.name] ?? x.name, values: x.values })),
      }));
    }
    case 'sortBy': {
      const [s] = o.sort as { field: string; desc?: boolean }[];
      return each((f) => {
        const by = field(f, s!.field);
        if (!by) return f;
        const order = by.values.map((v, i) => ({ v, i })).sort((a, b) => (a.v === b.v ? 0 : (a.v ?? '') < (b.v ?? '') ? -1 : 1) * (s!.desc ? -1 : 1));
        return { ...f, fields: f.fields.map((x) => ({ name: x.name, values: order.map(({ i }) => x.values[i]!) })) };
      });
    }
    default:
      throw new Error(`transformation '${t.id}' not modelled`);
  }
}

export function applyTransformations(frames: Frame[], transformations: readonly DataTransformerConfig[] = []): Frame[] {
  return transformations.reduce(transform, frames);
}

interface PanelFieldConfig {
  fieldConfig?: {
    defaults?: { unit?: string };
    overrides?: { matcher: { id: string; options: string }; properties: { id: string; value?: unknown }[] }[];
  };
}

/** The unit Grafana displays a field with: the panel's, or an override's matching the field's name. */
export function unitOf(panel: PanelFieldConfig, name: string): string | undefined {
  let unit = panel.fieldConfig?.defaults?.unit;
  for (const o of panel.fieldConfig?.overrides ?? []) {
    const hit = o.matcher.id === 'byName' ? o.matcher.options === name : o.matcher.id === 'byRegexp' ? new RegExp(o.matcher.options).test(name) : false;
    const u = o.properties.find((p) => p.id === 'unit');
    if (hit && u) unit = String(u.value);
  }
  return unit;
}
