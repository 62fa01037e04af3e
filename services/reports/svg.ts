/**
 * Charts as inline SVG strings: the yearly report must open offline, printed or archived, with no script, style
 * sheet or font fetched from anywhere. Three shapes cover the reports: vertical bars (grouped or stacked) per
 * month, horizontal bars per device with a reference line, and lines over years (décret tertiaire path).
 * Every text is escaped: device and site names come from the field.
 */
import { formatNumber, type Lang } from './common.ts';

/** Chart colours, fixed so that a reader (and the screenshot test) finds each chart by its colours. */
export const CHART_COLORS = {
  water: ['#1c7ed6', '#74c0fc', '#1864ab', '#4dabf7', '#a5d8ff', '#0b7285'],
  energy: ['#e8590c', '#ffa94d', '#c92a2a', '#ffc078', '#862e9c', '#f783ac'],
  facility: '#2b8a3e',
  it: '#94d82d',
  trajectory: '#7048e8',
  measured: '#c2255c',
  airtime: '#0c8599',
  budget: '#e03131',
  axis: '#495057',
  grid: '#dee2e6',
  /** Months without any measurement: a pale band, never a bar (none of the colours above). */
  missing: '#eef0f2',
  missingText: '#6c757d',
} as const;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/\.?0+$/, ''));

/** Round tick values from 0 to at least `max`: steps of 1, 2 or 5 × 10^k, at most `count` + 1 ticks. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const k = Math.max(1, Math.ceil(max / step - 1e-9));
  return Array.from({ length: k + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

export interface BarSeries {
  name: string;
  color: string;
  values: readonly (number | null)[];
}

export interface BarChartOptions {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  stacked?: boolean;
  unit: string;
  lang: Lang;
  width?: number;
  height?: number;
  /** A stable name for the chart (data-chart attribute). */
  name: string;
  /**
   * Categories without any measurement: drawn as a pale band labelled `missingLabel`, so that a month without
   * data is not read as a month at zero. Partial categories get `partialLabel` under their name.
   */
  missing?: readonly boolean[];
  partial?: readonly boolean[];
  missingLabel?: string;
  partialLabel?: string;
}

function legend(series: readonly { name: string; color: string }[], x: number, y: number, width: number): string {
  let cx = x;
  let cy = y;
  const parts: string[] = [];
  for (const s of series) {
    const w = 18 + Math.min(s.name.length, 40) * 6.5 + 14;
    if (cx + w > x + width && cx > x) {
      cx = x;
      cy += 16;
    }
    parts.push(`<rect x="${fmt(cx)}" y="${fmt(cy - 9)}" width="12" height="10" fill="${s.color}"/><text x="${fmt(cx + 16)}" y="${fmt(cy)}">${escapeXml(s.name.slice(0, 40))}</text>`);
    cx += w;
  }
  return parts.join('');
}

/** Legend rows a set of series needs at this width (to size the chart). */
function legendRows(series: readonly { name: string }[], width: number): number {
  let rows = series.length ? 1 : 0;
  let cx = 0;
  for (const s of series) {
    const w = 18 + Math.min(s.name.length, 40) * 6.5 + 14;
    if (cx + w > width && cx > 0) {
      rows++;
      cx = 0;
    }
    cx += w;
  }
  return rows;
}

/** Vertical bars per category (months), one colour per series, grouped side by side or stacked. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 720;
  const left = 72;
  const right = 16;
  const top = 36;
  const plotW = width - left - right;
  const anyMissing = o.missing?.some(Boolean) ?? false;
  const legendItems = anyMissing ? [...o.series, { name: o.missingLabel ?? 'no data', color: CHART_COLORS.missing }] : o.series;
  const partialH = o.partial?.some(Boolean) ? 12 : 0;
  const legendH = legendRows(legendItems, plotW) * 16;
  const height = (o.height ?? 260) + legendH + partialH;
  const bottom = 36 + legendH + partialH;
  const plotH = height - top - bottom;
  const n = Math.max(1, o.categories.length);
  const totals = o.categories.map((_, i) => (o.stacked ? o.series.reduce((s, x) => s + Math.max(0, x.values[i] ?? 0), 0) : Math.max(0, ...o.series.map((x) => x.values[i] ?? 0))));
  const ticks = niceTicks(Math.max(0, ...totals));
  const yMax = ticks[ticks.length - 1]!;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const band = plotW / n;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="20" class="chart-title">${escapeXml(o.title)}</text>`);
  for (const tv of ticks) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(y(tv))}" y2="${fmt(y(tv))}" stroke="${CHART_COLORS.grid}"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(y(tv) + 4)}" text-anchor="end">${escapeXml(formatNumber(o.lang, tv, 2))}</text>`);
  }
  parts.push(`<text x="12" y="${fmt(top + plotH / 2)}" transform="rotate(-90 12 ${fmt(top + plotH / 2)})" text-anchor="middle">${escapeXml(o.unit)}</text>`);
  o.categories.forEach((c, i) => {
    const x0 = left + i * band;
    parts.push(`<text x="${fmt(x0 + band / 2)}" y="${fmt(top + plotH + 16)}" text-anchor="middle">${escapeXml(c)}</text>`);
    if (o.missing?.[i]) {
      const cx = x0 + band / 2;
      const cy = top + plotH / 2;
      parts.push(`<rect x="${fmt(x0 + band * 0.1)}" y="${top}" width="${fmt(band * 0.8)}" height="${fmt(plotH)}" fill="${CHART_COLORS.missing}" data-missing="${escapeXml(c)}"/>`);
      parts.push(`<text x="${fmt(cx)}" y="${fmt(cy)}" transform="rotate(-90 ${fmt(cx)} ${fmt(cy)})" text-anchor="middle" dominant-baseline="middle" fill="${CHART_COLORS.missingText}">${escapeXml(o.missingLabel ?? 'no data')}</text>`);
      return;
    }
    if (o.partial?.[i]) parts.push(`<text x="${fmt(x0 + band / 2)}" y="${fmt(top + plotH + 28)}" text-anchor="middle" font-style="italic" fill="${CHART_COLORS.missingText}">${escapeXml(o.partialLabel ?? 'partial')}</text>`);
    if (o.stacked) {
      let acc = 0;
      const w = band * 0.7;
      for (const s of o.series) {
        const v = s.values[i];
        if (v === null || v === undefined || !(v > 0)) continue;
        const h = (v / yMax) * plotH;
        parts.push(
          `<rect x="${fmt(x0 + (band - w) / 2)}" y="${fmt(y(acc + v))}" width="${fmt(w)}" height="${fmt(h)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${c}: ${formatNumber(o.lang, v, 3)} ${o.unit}`)}</title></rect>`,
        );
        acc += v;
      }
    } else {
      const k = Math.max(1, o.series.length);
      const w = (band * 0.8) / k;
      o.series.forEach((s, j) => {
        const v = s.values[i];
        if (v === null || v === undefined || !(v > 0)) return;
        const h = (v / yMax) * plotH;
        parts.push(
          `<rect x="${fmt(x0 + band * 0.1 + j * w)}" y="${fmt(y(v))}" width="${fmt(w)}" height="${fmt(h)}" fill="${s.color}"><title>${escapeXml(`${s.name} ${c}: ${formatNumber(o.lang, v, 3)} ${o.unit}`)}</title></rect>`,
        );
      });
    }
  });
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(top + plotH)}" y2="${fmt(top + plotH)}" stroke="${CHART_COLORS.axis}"/>`);
  parts.push(legend(legendItems, left, top + plotH + 34 + partialH, plotW));
  return svg(o.name, o.title, width, height, parts);
}

export interface HBarItem {
  label: string;
  value: number | null;
  color: string;
}

export interface HBarChartOptions {
  title: string;
  items: readonly HBarItem[];
  unit: string;
  lang: Lang;
  width?: number;
  /** A vertical reference line (a budget), drawn over the bars. */
  reference?: { value: number; label: string; color: string };
  name: string;
  /** Room for the labels, px (default 220, about 34 characters). */
  labelWidth?: number;
}

/** One horizontal bar per item (devices), with an optional reference line (the airtime budget). */
export function hBarChart(o: HBarChartOptions): string {
  const width = o.width ?? 720;
  const left = o.labelWidth ?? 220;
  const right = 72;
  const top = 36;
  const row = 20;
  const plotW = width - left - right;
  const plotH = Math.max(1, o.items.length) * row;
  const height = top + plotH + 40;
  const max = Math.max(0, ...o.items.map((i) => i.value ?? 0), o.reference?.value ?? 0);
  const ticks = niceTicks(max);
  const xMax = ticks[ticks.length - 1]!;
  const x = (v: number) => left + (v / xMax) * plotW;
  const parts: string[] = [`<text x="12" y="20" class="chart-title">${escapeXml(o.title)}</text>`];
  for (const tv of ticks) {
    parts.push(`<line x1="${fmt(x(tv))}" x2="${fmt(x(tv))}" y1="${top}" y2="${top + plotH}" stroke="${CHART_COLORS.grid}"/>`);
    parts.push(`<text x="${fmt(x(tv))}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(formatNumber(o.lang, tv, 2))}</text>`);
  }
  o.items.forEach((it, i) => {
    const yy = top + i * row;
    parts.push(`<text x="${left - 6}" y="${fmt(yy + row * 0.7)}" text-anchor="end">${escapeXml(it.label.slice(0, Math.floor((left - 12) / 6)))}</text>`);
    if (it.value !== null && it.value > 0) {
      parts.push(
        `<rect x="${left}" y="${fmt(yy + 3)}" width="${fmt(x(it.value) - left)}" height="${row - 6}" fill="${it.color}"><title>${escapeXml(`${it.label}: ${formatNumber(o.lang, it.value, 2)} ${o.unit}`)}</title></rect>`,
      );
    }
    parts.push(`<text x="${fmt((it.value !== null && it.value > 0 ? x(it.value) : left) + 4)}" y="${fmt(yy + row * 0.7)}">${escapeXml(it.value === null ? '–' : formatNumber(o.lang, it.value, 2))}</text>`);
  });
  if (o.reference) {
    const rx = x(o.reference.value);
    parts.push(`<line x1="${fmt(rx)}" x2="${fmt(rx)}" y1="${top - 4}" y2="${top + plotH}" stroke="${o.reference.color}" stroke-width="2" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${fmt(rx)}" y="${top - 8}" text-anchor="middle" fill="${o.reference.color}">${escapeXml(o.reference.label)}</text>`);
  }
  parts.push(`<text x="${left + plotW}" y="${top + plotH + 32}" text-anchor="end">${escapeXml(o.unit)}</text>`);
  return svg(o.name, o.title, width, height, parts);
}

export interface LineSeries {
  name: string;
  color: string;
  points: readonly { x: number; y: number }[];
  dashed?: boolean;
  /** Draw each point as a disc (measured values). */
  markers?: boolean;
}

export interface LineChartOptions {
  title: string;
  series: readonly LineSeries[];
  xTicks: readonly number[];
  unit: string;
  lang: Lang;
  width?: number;
  height?: number;
  name: string;
}

/** Lines over numeric x (years), y from 0. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 720;
  const left = 80;
  const right = 24;
  const top = 36;
  const plotW = width - left - right;
  const legendH = legendRows(o.series, plotW) * 16;
  const height = (o.height ?? 260) + legendH;
  const bottom = 36 + legendH;
  const plotH = height - top - bottom;
  const xs = [...o.xTicks, ...o.series.flatMap((s) => s.points.map((p) => p.x))];
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const ticks = niceTicks(Math.max(0, ...o.series.flatMap((s) => s.points.map((p) => p.y))));
  const yMax = ticks[ticks.length - 1]!;
  const X = (v: number) => left + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW);
  const Y = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [`<text x="${left}" y="20" class="chart-title">${escapeXml(o.title)}</text>`];
  for (const tv of ticks) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(Y(tv))}" y2="${fmt(Y(tv))}" stroke="${CHART_COLORS.grid}"/>`);
    parts.push(`<text x="${left - 6}" y="${fmt(Y(tv) + 4)}" text-anchor="end">${escapeXml(formatNumber(o.lang, tv, 2))}</text>`);
  }
  for (const xv of o.xTicks) parts.push(`<text x="${fmt(X(xv))}" y="${fmt(top + plotH + 16)}" text-anchor="middle">${xv}</text>`);
  parts.push(`<text x="12" y="${fmt(top + plotH / 2)}" transform="rotate(-90 12 ${fmt(top + plotH / 2)})" text-anchor="middle">${escapeXml(o.unit)}</text>`);
  for (const s of o.series) {
    if (s.points.length > 1) {
      const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(X(p.x))},${fmt(Y(p.y))}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="8 4"' : ''}/>`);
    }
    if (s.markers || s.points.length === 1) {
      for (const p of s.points) {
        parts.push(`<circle cx="${fmt(X(p.x))}" cy="${fmt(Y(p.y))}" r="7" fill="${s.color}"><title>${escapeXml(`${s.name} ${p.x}: ${formatNumber(o.lang, p.y, 0)} ${o.unit}`)}</title></circle>`);
      }
    }
  }
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${fmt(top + plotH)}" y2="${fmt(top + plotH)}" stroke="${CHART_COLORS.axis}"/>`);
  parts.push(legend(o.series, left, top + plotH + 34, plotW));
  return svg(o.name, o.title, width, height, parts);
}

function svg(name: string, title: string, width: number, height: number, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(name)}" width="${width}" height="${fmt(height)}" viewBox="0 0 ${width} ${fmt(height)}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11" fill="#212529">` +
    parts.join('') +
    '</svg>'
  );
}
