/**
 * Pieces several console pages use: a time-series chart with its text alternative, a table, pagination that keeps
 * the filters in the query string, labelled figures (thresholds and measurements of the rules), badges.
 */
import { ruleFieldLabels } from '../alerts/catalogue.ts';
import type { PageContext } from './context.ts';
import { html, jsonBlock, type Html } from './html.ts';

export interface ChartSeries {
  label: string;
  /** [epoch ms, value or null] in time order. */
  points: [number, number | null][];
}

export interface ChartInput {
  id: string;
  title: string;
  unit: string;
  series: ChartSeries[];
  timeZone: string;
  /** Horizontal lines (a rule's thresholds, a reference value): each drawn, and a column of the table. */
  thresholds?: { value: number; legend: string }[] | undefined;
  /** The sentence that says what the lines are, after the summary. */
  thresholdsText?: string | undefined;
  /** A sentence that says what the chart shows, with its figures (the text alternative). */
  summary: string;
  /** Draw steps (states such as wet/dry) rather than lines. */
  steps?: boolean;
  digits?: number;
  /** The value axis starts at zero (volumes, energies, states); by default for step charts and units of quantity. */
  zeroBased?: boolean;
}

const MAX_TABLE_ROWS = 400;

/** Chart drawn by console.js with uPlot; the same figures are in a sentence and in a table for every reader. */
export function chart(ctx: PageContext, c: ChartInput): Html {
  const times = [...new Set(c.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const byTime = c.series.map((s) => new Map(s.points));
  const shown = times.slice(-MAX_TABLE_ROWS);
  const digits = c.digits ?? 1;
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '–' : ctx.fmt.number(v, digits));
  const zeroBased = c.zeroBased ?? (c.steps === true || /\/h$|^(L|m³|Wh|kWh|MWh)$/.test(c.unit));
  const thresholds = c.thresholds ?? [];
  const data = { unit: c.unit, timeZone: c.timeZone, lang: ctx.lang, timeLabel: ctx.t.time, steps: c.steps === true, zeroBased, thresholds, series: c.series };
  return html`<figure class="chart">
  <figcaption id="${c.id}-titre">${c.title}${c.unit ? ` (${c.unit})` : ''}</figcaption>
  <div class="chart-canvas" data-chart="${c.id}" role="img" aria-labelledby="${c.id}-titre" aria-describedby="${c.id}-resume"></div>
  <p id="${c.id}-resume" class="chart-summary">${c.summary}${c.thresholdsText ? ` ${c.thresholdsText}.` : ''}</p>
  <details class="chart-table">
    <summary>${ctx.t.chartShowTable}</summary>
    <table>
      <caption>${ctx.t.chartTableCaption(c.title)}${times.length > shown.length ? ` (${shown.length} / ${times.length})` : ''}</caption>
      <thead><tr><th scope="col">${ctx.t.time}</th>${c.series.map((s) => html`<th scope="col">${s.label}</th>`)}${thresholds.map((l) => html`<th scope="col">${l.legend}</th>`)}</tr></thead>
      <tbody>${shown.map((t) => html`<tr><th scope="row">${ctx.fmt.short(t, c.timeZone)}</th>${byTime.map((m) => html`<td>${cell(m.get(t))}</td>`)}${thresholds.map((l) => html`<td>${cell(l.value)}</td>`)}</tr>`)}</tbody>
    </table>
  </details>
  ${jsonBlock(`${c.id}-donnees`, data)}
</figure>`;
}

/** Min and max of every value of the series, for the chart's sentence. */
export function seriesRange(series: ChartSeries[]): { n: number; min: number; max: number } | undefined {
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of series)
    for (const [, v] of s.points) {
      if (v === null) continue;
      n++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  return n ? { n, min, max } : undefined;
}

/** Links to the other pages of a list, keeping every filter of the query string. */
export function pagination(ctx: PageContext, path: string, query: Record<string, string | undefined>, page: number, pages: number): Html {
  if (pages <= 1) return html``;
  const link = (p: number) => {
    const q = new URLSearchParams(Object.entries({ ...query, page: String(p) }).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    return `${path}?${q.toString()}`;
  };
  return html`<nav class="pagination" aria-label="${ctx.t.pagination}">
  ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">${ctx.t.previous}</a>` : ''}
  <span aria-current="page">${ctx.t.pageOf(page, pages)}</span>
  ${page < pages ? html`<a href="${link(page + 1)}" rel="next">${ctx.t.next}</a>` : ''}
</nav>`;
}

const UNIT_BY_SUFFIX: [RegExp, string][] = [
  [/_l_per_h$/, 'L/h'],
  [/_kwh_per_h$/, 'kWh/h'],
  [/_kwh_per_dju$/, 'kWh/DJU'],
  [/_l_per_day$/, 'L/j'],
  [/_ms_per_uplink$/, 'ms'],
  [/_ppm$/, 'ppm'],
  [/_pct$/, '%'],
  [/_c$/, '°C'],
  [/_h$/, 'h'],
  [/_min$/, 'min'],
  [/_v$/, 'V'],
  [/_w$/, 'W'],
  [/_s$/, 's'],
  [/_l$/, 'L'],
  [/_bytes$/, 'o'],
];

/** "Plus petit volume horaire : 18 L/h" from a rule's `min_l_per_h: 18`. */
export function fieldLabel(ctx: PageContext, key: string): string {
  // A rule's own labels (defineRule `fields`) after the catalogue's: a new rule brings its labels with it.
  return ctx.t.fields[key] ?? ruleFieldLabels().get(key)?.[ctx.lang] ?? key.replace(/_/g, ' ');
}

export function fieldValue(ctx: PageContext, key: string, value: number | string): string {
  if (typeof value === 'number') {
    let unit = UNIT_BY_SUFFIX.find(([re]) => re.test(key))?.[1] ?? '';
    if (unit === 'L/j' && ctx.lang === 'en') unit = 'L/d';
    return ctx.fmt.quantity(value, unit, Math.abs(value) < 10 ? 2 : 1);
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return ctx.fmt.dateTime(value);
  return ctx.t.fieldValues[value] ?? value;
}

export function figures(ctx: PageContext, values: Record<string, number | string>): Html {
  const entries = Object.entries(values);
  if (!entries.length) return html`<p>–</p>`;
  return html`<dl class="figures">${entries.map(([k, v]) => html`<div><dt>${fieldLabel(ctx, k)}</dt><dd>${fieldValue(ctx, k, v)}</dd></div>`)}</dl>`;
}

export function badge(kind: string, text: string): Html {
  return html`<span class="badge ${kind}">${text}</span>`;
}
