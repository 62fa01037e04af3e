/**
 * Rapports: the yearly REEN review, the parsimony report and the datacenter report of one commune, for a chosen
 * period, viewed in the page and downloaded (HTML, CSV) through console routes (session, same tenant checks).
 *
 * The yearly and parsimony reports are shown in an <iframe> of a console route that serves the very document the
 * download gives, under a CSP of its own (no script, nothing fetched, inline style only). Chosen over embedding the
 * HTML fragment (services/reports/html.ts) because: the page then shows byte for byte what the council archives;
 * the report's own <h1>–<h3> outline stays in its own document instead of a second <h1> under the console's; and
 * its inline <style>, which the console's strict policy (style-src 'self') rightly blocks, is allowed only in a
 * document that can run nothing. The datacenter report has no HTML rendering of its own: the console renders it
 * with its own markup, and its HTML download is that markup in a small self-contained document.
 *
 * Every figure states its period; the yearly review's coverage of the year and each meter's coverage of the period
 * are written in the page. Reports are computed once per (report, commune, period) and kept a few minutes, so
 * the page, its frame and the downloads do not compute the same year three times.
 */
import { ReportCache } from '../cache.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { localDayBounds, localTime } from '../../time/calendar.ts';
import { siteTimeZone } from '../../api/inventory.ts';
import { siteId, tenantId } from '../../api/params.ts';
import { ApiError, tenantConditions } from '../../api/scope.ts';
import { buildDatacenterReport, calendarPeriod, CALENDAR_PERIOD_FORMATS, DATACENTER_ROLES, datacenterReportCsv, readMeterSeries, type CalendarPeriodKind, type DatacenterReport } from '../../datacenter/kpi.ts';
import { roleLabel } from '../../registry/names.ts';
import { coverage as coverageOf, shareDigits, tenantTimeZone } from '../../reports/common.ts';
import { pueCategoryFor, reportsConfigOf } from '../../reports/config.ts';
import { parsimonyCsv, yearlyCsv } from '../../reports/csv.ts';
import { renderParsimonyHtml, renderYearlyHtml } from '../../reports/html.ts';
import type { ParsimonyReport } from '../../reports/parsimony.ts';
import { parsimonyReport, yearlyReport } from '../../reports/read.ts';
import { coveredSpan, type Headline, type YearlyReport } from '../../reports/yearly.ts';
// `select` is the page's form control: the InfluxQL statement is `selectStatement`.
import { select as selectStatement } from '../../storage/influxql.ts';
import { pageOf, type PageContext } from '../context.ts';
import { escapeHtml, html, type Html } from '../html.ts';
import { layout, notice } from '../layout.ts';
import { sendPage, type ConsoleDeps } from '../page.ts';
import { communesOf, pickCommune } from './fleet.ts';

const DAY = 86_400_000;
/** What a report document may do: show itself. No script, nothing fetched, its own inline style. */
export const REPORT_DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
export const PARSIMONY_PERIODS = ['7', '30', '90', '365'] as const;
const MAX_PARSIMONY_DAYS = 366;
const MAX_DATACENTER_DAYS = 5 * 366;
const YEARS_OFFERED = 5;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

// ---------------------------------------------------------------------------------------------------------
// Periods (pure, unit-tested)

/** A period the reader asked for that cannot be: the message key says why. */
export class PeriodError extends Error {
  constructor(
    readonly key: 'future' | 'order' | 'tooLong' | 'dates' | 'year',
    readonly maxDays?: number,
  ) {
    super(key);
  }
}

export interface ChosenPeriod {
  from: Date;
  to: Date;
  /** The period is under way: `to` is now. */
  ongoing: boolean;
}

/** [first local midnight, the day after the last) of two dates in the zone, the last one included; capped at now. */
export function datesPeriod(du: string | undefined, au: string | undefined, timeZone: string, maxDays: number, now: Date = new Date()): ChosenPeriod {
  if (!du || !au || !day.safeParse(du).success || !day.safeParse(au).success) throw new PeriodError('dates');
  const from = localDayBounds(du, timeZone).start;
  const end = localDayBounds(au, timeZone).end;
  if (end.getTime() <= from.getTime()) throw new PeriodError('order');
  if (end.getTime() - from.getTime() > maxDays * DAY + 2 * 3_600_000) throw new PeriodError('tooLong', maxDays);
  if (from.getTime() >= now.getTime()) throw new PeriodError('future');
  return end.getTime() > now.getTime() ? { from, to: now, ongoing: true } : { from, to: end, ongoing: false };
}

/** The datacenter report's period: '2026-11', '2026-Q4', '2026' (calendar periods in the site's zone), or 'dates'. */
export function datacenterPeriod(periode: string | undefined, du: string | undefined, au: string | undefined, timeZone: string, now: Date = new Date()): ChosenPeriod {
  if (periode === 'dates') return datesPeriod(du, au, timeZone, MAX_DATACENTER_DAYS, now);
  const kind = (Object.keys(CALENDAR_PERIOD_FORMATS) as CalendarPeriodKind[]).find((k) => periode !== undefined && CALENDAR_PERIOD_FORMATS[k].test(periode)) ?? 'month';
  let p;
  try {
    p = calendarPeriod(kind, periode && CALENDAR_PERIOD_FORMATS[kind].test(periode) ? periode : undefined, timeZone, now);
  } catch {
    throw new PeriodError('year');
  }
  if (p.from.getTime() >= now.getTime()) throw new PeriodError('future');
  return { from: p.from, to: p.to, ongoing: p.ongoing };
}

/** The choices of the datacenter form: the last 12 months, the last 4 quarters and the last 3 years, newest first. */
export function datacenterChoices(timeZone: string, now: Date = new Date()): { months: string[]; quarters: string[]; years: string[] } {
  const today = localTime(now, timeZone).date;
  const y = Number(today.slice(0, 4));
  const m = Number(today.slice(5, 7));
  const months = Array.from({ length: 12 }, (_, i) => {
    const k = y * 12 + (m - 1) - i;
    return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}`;
  });
  const q = Math.floor((m - 1) / 3);
  const quarters = Array.from({ length: 4 }, (_, i) => {
    const k = y * 4 + q - i;
    return `${Math.floor(k / 4)}-Q${(k % 4) + 1}`;
  });
  const years = Array.from({ length: 3 }, (_, i) => String(y - i));
  return { months, quarters, years };
}

/** The years the yearly review offers: this one (in the commune's zone) and the previous ones. */
export function yearsOffered(timeZone: string, now: Date = new Date()): number[] {
  const y = Number(localTime(now, timeZone).date.slice(0, 4));
  return Array.from({ length: YEARS_OFFERED }, (_, i) => y - i);
}

/** `attachment; filename="…"` with only safe characters in the name. */
export function attachment(name: string): string {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

// ---------------------------------------------------------------------------------------------------------
// Queries

const yearlyQuery = z.object({ commune: tenantId.optional().catch(undefined), annee: z.coerce.number().int().optional().catch(undefined) });
const parsimonyQuery = z.object({
  commune: tenantId.optional().catch(undefined),
  jours: z.enum([...PARSIMONY_PERIODS, 'dates']).catch('7').default('7'),
  du: day.optional().catch(undefined),
  au: day.optional().catch(undefined),
});
const datacenterQuery = z.object({
  salle: z.string().optional().catch(undefined),
  periode: z.string().max(10).optional().catch(undefined),
  du: day.optional().catch(undefined),
  au: day.optional().catch(undefined),
});
const formatQuery = z.object({ format: z.enum(['html', 'csv']).catch('html').default('html') });

/** Server rooms the principal may see: sites with server-room meters in the registry or in the last 13 months. */
async function serverRooms(deps: ConsoleDeps, tenants: string[] | undefined): Promise<{ tenant: string; site: string }[]> {
  const roles: string[] = [DATACENTER_ROLES.facilityTotal, DATACENTER_ROLES.itLoad];
  const out = new Map<string, { tenant: string; site: string }>();
  // A registry entry without a tenant gets its commune from the network server: only the stored points know it.
  for (const d of deps.api.registry.devices) {
    const tenant = d.tenant;
    if (tenant && d.site && d.role && roles.includes(d.role) && (!tenants || tenants.includes(tenant))) out.set(`${tenant}/${d.site}`, { tenant, site: d.site });
  }
  const e = QUANTITIES['metering.electricity.activeEnergy'];
  const series = await deps.api.influx.query(
    selectStatement({
      select: [{ fn: 'count', field: e.field }],
      from: e.measurement,
      where: [{ time: '>=', at: Date.now() - 400 * DAY }, { tag: 'role', in: roles }, ...tenantConditions(tenants)],
      groupBy: ['tenant', 'site'],
    }),
  );
  for (const s of series) if (s.tags?.tenant && s.tags.site) out.set(`${s.tags.tenant}/${s.tags.site}`, { tenant: s.tags.tenant, site: s.tags.site });
  return [...out.values()].sort((a, b) => a.tenant.localeCompare(b.tenant) || a.site.localeCompare(b.site));
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

function select(id: string, label: string, name: string, value: string | undefined, options: [string, string][]): Html {
  return html`<div class="field"><label for="${id}">${label}</label><select id="${id}" name="${name}">${options.map(([v, text]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${text}</option>`)}</select></div>`;
}

function communeField(ctx: PageContext, id: string, communes: string[], value: string | undefined): Html {
  return communes.length > 1 ? select(id, ctx.t.commune, 'commune', value, communes.map((c) => [c, ctx.names.tenant(c)])) : html``;
}

function datesFields(ctx: PageContext, prefix: string, du: string | undefined, au: string | undefined): Html {
  return html`<div class="field"><label for="${prefix}-du">${ctx.t.from}</label><input id="${prefix}-du" name="du" type="date" value="${du ?? ''}" aria-describedby="${prefix}-aide"></div>
<div class="field"><label for="${prefix}-au">${ctx.t.to}</label><input id="${prefix}-au" name="au" type="date" value="${au ?? ''}" aria-describedby="${prefix}-aide"></div>
<p class="hint" id="${prefix}-aide">${ctx.t.reports.datesHint}</p>`;
}

function yearlyForm(ctx: PageContext, communes: string[], commune: string | undefined, years: number[], year: number | undefined): Html {
  const r = ctx.t.reports;
  return html`<form method="get" action="/rapports/annuel" class="filters" aria-label="${r.yearlyTitle}">
  ${communeField(ctx, 'annuel-commune', communes, commune)}
  ${select('annuel-annee', r.year, 'annee', year === undefined ? undefined : String(year), years.map((y) => [String(y), String(y)]))}
  <div class="actions"><button type="submit">${r.show}</button></div>
</form>`;
}

function parsimonyForm(ctx: PageContext, communes: string[], q: Partial<z.infer<typeof parsimonyQuery>>): Html {
  const r = ctx.t.reports;
  return html`<form method="get" action="/rapports/sobriete" class="filters" aria-label="${r.parsimonyTitle}">
  ${communeField(ctx, 'sobriete-commune', communes, q.commune)}
  ${select('sobriete-jours', ctx.t.period, 'jours', q.jours ?? '7', [...PARSIMONY_PERIODS.map((n) => [n, r.lastDays(Number(n))] as [string, string]), ['dates', r.customDates]])}
  ${datesFields(ctx, 'sobriete', q.du, q.au)}
  <div class="actions"><button type="submit">${r.show}</button></div>
</form>`;
}

function monthName(ctx: PageContext, ym: string): string {
  const s = new Intl.DateTimeFormat(ctx.lang === 'fr' ? 'fr-FR' : 'en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5, 7)) - 1, 15)));
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function datacenterForm(ctx: PageContext, rooms: { tenant: string; site: string }[], salle: string | undefined, q: Partial<z.infer<typeof datacenterQuery>>, timeZone: string): Html {
  const r = ctx.t.reports;
  const several = new Set(rooms.map((x) => x.tenant)).size > 1;
  const c = datacenterChoices(timeZone);
  const periode = q.periode ?? c.months[0];
  const option = (v: string, text: string) => html`<option value="${v}"${v === periode ? html` selected` : ''}>${text}</option>`;
  return html`<form method="get" action="/rapports/salle-serveurs" class="filters" aria-label="${r.datacenterTitle}">
  ${select('salle-site', r.serverRoom, 'salle', salle, rooms.map((x) => [`${x.tenant}/${x.site}`, several ? `${ctx.names.site(x.tenant, x.site)} (${ctx.names.tenant(x.tenant)})` : ctx.names.site(x.tenant, x.site)]))}
  <div class="field"><label for="salle-periode">${ctx.t.period}</label><select id="salle-periode" name="periode">
    <optgroup label="${r.months}">${c.months.map((m) => option(m, monthName(ctx, m)))}</optgroup>
    <optgroup label="${r.quarters}">${c.quarters.map((x) => option(x, r.quarterName(Number(x.slice(6)), Number(x.slice(0, 4)))))}</optgroup>
    <optgroup label="${r.years}">${c.years.map((y) => option(y, r.yearName(Number(y))))}</optgroup>
    ${option('dates', r.customDates)}
  </select></div>
  ${datesFields(ctx, 'salle', q.du, q.au)}
  <div class="actions"><button type="submit">${r.show}</button></div>
</form>`;
}

function downloads(ctx: PageContext, base: string, query: Record<string, string | undefined>, documentTitle?: string): Html {
  const r = ctx.t.reports;
  const q = (format: string) => new URLSearchParams(Object.entries({ ...query, format }).filter((e): e is [string, string] => !!e[1])).toString();
  const plain = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1])).toString();
  return html`<section aria-labelledby="telecharger"><h2 id="telecharger">${r.downloads}</h2><ul>
<li><a href="${base}/telecharger?${q('html')}" download>${r.downloadHtml}</a></li>
<li><a href="${base}/telecharger?${q('csv')}" download>${r.downloadCsv}</a></li>
${documentTitle ? html`<li><a href="${base}/document?${plain}">${r.openAlone}</a></li>` : ''}
</ul></section>`;
}

function frame(ctx: PageContext, base: string, query: Record<string, string | undefined>, title: string): Html {
  const plain = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1])).toString();
  // Sandboxed (no script, form, pop-up or navigation of the console) but same-origin: a separate origin would put
  // the frame in its own process, which full-page screenshots (the README's, the tests') do not capture.
  return html`<iframe class="report" src="${base}/document?${plain}" title="${ctx.t.reports.frameTitle(title)}" sandbox="allow-same-origin"></iframe>`;
}

/** "du 1 janv. 2026 au 31 déc. 2026" from an instant range [from, to). */
function rangeText(ctx: PageContext, from: Date | string | number, to: Date | string | number, timeZone: string, withTime = false): string {
  const f = withTime ? ctx.fmt.dateTime : ctx.fmt.date;
  const end = new Date(new Date(to).getTime() - (withTime ? 0 : 1));
  // French writes the first of the month as an ordinal: « 1er déc. ».
  const first = (s: string) => (ctx.lang === 'fr' ? s.replace(/^1 /, '1er ') : s);
  return ctx.t.periodRange(first(f(from, timeZone)), first(f(end, timeZone)));
}

function bytesText(ctx: PageContext, b: number): string {
  const units = ctx.lang === 'fr' ? ['o', 'ko', 'Mo', 'Go', 'To'] : ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = b;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return ctx.fmt.quantity(v, units[i]!, 1);
}

export function headlineValue(ctx: PageContext, h: Pick<Headline, 'key' | 'unit'>, value: number | null): string {
  if (value === null) return ctx.t.reports.noMeasure;
  if (h.unit === 'B') return bytesText(ctx, value);
  const digits = h.key === 'pue' || (h.unit === 'm³' && Math.abs(value) < 10) ? 2 : h.unit === 'm³' ? 1 : 0;
  return ctx.fmt.quantity(value, h.unit, digits);
}

function percent(ctx: PageContext, share: number): string {
  return ctx.fmt.quantity(share * 100, '%', shareDigits(share));
}

function yearlySummary(ctx: PageContext, r: YearlyReport): Html {
  const t = ctx.t.reports;
  const tz = r.timeZone;
  const span = (s: { from: string; to: string } | null) => (s ? rangeText(ctx, s.from, s.to, tz, true) : t.noMeasure);
  return html`<section aria-labelledby="couverture"><h2 id="couverture">${t.coverageTitle}</h2>
<p>${t.yearPeriod(r.year, rangeText(ctx, r.period.from, r.period.to, tz), tz)}</p>
<p>${r.measured.covered ? t.measured(span(r.measured.covered), percent(ctx, r.measured.coverage)) : t.notMeasured}</p>
${r.measured.coverage < 0.8 && r.measured.covered ? notice('info', t.partialNote) : ''}
<table><caption>${t.headlineCaption}</caption>
<thead><tr><th scope="col">${t.figure}</th><th scope="col" class="num">${t.value}</th><th scope="col">${t.measuredSpan}</th><th scope="col" class="num">${t.coverageOfYear}</th></tr></thead>
<tbody>${r.headlines.map(
    (h) =>
      html`<tr><th scope="row">${t.headlines[h.key] ?? h.key}</th><td class="num">${headlineValue(ctx, h, h.value)}${h.estimate ? html`<br><span class="hint">${t.estimate(headlineValue(ctx, h, h.estimate.value))}</span>` : ''}</td><td>${span(h.covered)}</td><td class="num">${h.covered ? percent(ctx, h.coverage) : '–'}</td></tr>`,
  )}</tbody></table>
</section>`;
}

interface DatacenterView {
  tenant: string;
  site: string;
  timeZone: string;
  period: ChosenPeriod;
  report: DatacenterReport;
  meters: { devEui: string; device: string; role: string; kwh: number; readings: number; coverage: number; covered: { from: number; to: number } | null }[];
}

/** The datacenter report in the console's markup (also the body of its HTML download). */
export function datacenterBody(ctx: PageContext, v: DatacenterView): Html {
  const t = ctx.t.reports;
  const r = v.report;
  const tz = v.timeZone;
  const spanText = `${rangeText(ctx, v.period.from, v.period.to, tz, true)}${v.period.ongoing ? ` (${t.ongoing})` : ''}`;
  const kwh = (x: number | null | undefined) => ctx.fmt.quantity(x ?? null, 'kWh', 1);
  const rows: [string, string][] = [
    [t.pue, ctx.fmt.number(r.pue, 2)],
    [t.dcie, ctx.fmt.quantity(r.dcie, '%', 1)],
    [t.energyTotal, kwh(r.energyKwh.total)],
    [t.energyIt, kwh(r.energyKwh.it)],
    ...(r.energyKwh.cooling !== undefined ? [[t.energyCooling, kwh(r.energyKwh.cooling)] as [string, string]] : []),
    ...(r.energyKwh.other !== undefined ? [[t.energyOther, kwh(r.energyKwh.other)] as [string, string]] : []),
    [t.carbon, ctx.fmt.quantity(r.kgCo2e.total, 'kgCO₂e', 1)],
    [t.category, t.categories[r.pueCategory] ?? r.pueCategory],
  ];
  return html`<p><strong>${t.dcPeriod(spanText)}</strong></p>
${r.interimPue ? html`<p class="hint">${t.interim}</p>` : ''}
<table class="dc-figures"><caption>${t.figuresCaption(spanText)}</caption>
<tbody>${rows.map(([k, val]) => html`<tr><th scope="row">${k}</th><td class="num">${val}</td></tr>`)}</tbody></table>
<p>${t.factor(ctx.fmt.number(r.emissionFactor.kgCo2ePerKwh, 4), r.emissionFactor.id, r.emissionFactor.vintage)}</p>
${v.meters.length === 0 ? '' : html`<table><caption>${t.metersCaption} (${spanText})</caption>
<thead><tr><th scope="col">${t.meter}</th><th scope="col" class="num">${t.energy}</th><th scope="col" class="num">${t.readings}</th><th scope="col">${t.measuredSpan}</th><th scope="col" class="num">${t.coverage}</th></tr></thead>
<tbody>${v.meters.map(
    (m) =>
      html`<tr><th scope="row">${roleLabel(m.role, ctx.lang)} <span class="hint">(${m.device})</span></th><td class="num">${kwh(m.kwh)}</td><td class="num">${ctx.fmt.number(m.readings, 0)}</td><td>${m.covered ? rangeText(ctx, m.covered.from, m.covered.to, tz, true) : t.noMeasure}</td><td class="num">${percent(ctx, m.coverage)}</td></tr>`,
  )}</tbody></table>`}
${r.warnings.length ? html`<h3>${t.warnings}</h3><ul>${r.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}`;
}

/** A self-contained document around console markup (the datacenter download): opens offline, prints. */
export function standaloneDocument(lang: string, title: string, body: Html): string {
  const style =
    'body{font-family:system-ui,sans-serif;color:#1b1f24;max-width:960px;margin:0 auto;padding:24px;line-height:1.45}table{border-collapse:collapse;width:100%;margin:12px 0}' +
    'th,td{border-bottom:1px solid #dde2e8;padding:4px 8px;text-align:left;vertical-align:top}td.num,th.num{text-align:right}caption{text-align:left;font-weight:600;padding:4px 0}.hint{color:#4a5360}';
  return `<!doctype html>\n<html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${style}</style></head><body><h1>${escapeHtml(title)}</h1>${body.value}</body></html>\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Routes

function sendDocument(reply: FastifyReply, body: string, type: string, disposition?: string): FastifyReply {
  reply.header('content-security-policy', REPORT_DOCUMENT_CSP).header('cache-control', 'no-store').type(type);
  if (disposition) reply.header('content-disposition', disposition);
  return reply.send(body);
}

export function reportPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const cache = new ReportCache();
  // A download is an export, recorded in the action trail like the API's report exports.
  const exported = (req: FastifyRequest, ctx: PageContext, tenant: string, target: string) =>
    deps.api.audit?.ofRequest(req, ctx.principal, { action: 'report.export', tenant, target, source: 'console' });
  const registry = deps.api.registry;
  const influx = deps.api.influx;
  const communes = (ctx: PageContext) => communesOf(ctx.tenants, registry, deps.api.defaultTenant);
  const page = (ctx: PageContext, title: string, content: Html, status = 200, reply?: FastifyReply) => sendPage(reply!, status, layout(ctx, { title, section: 'reports', content }));
  const periodError = (ctx: PageContext, e: unknown): Html => {
    if (!(e instanceof PeriodError)) throw e;
    const errors = ctx.t.reports.errors;
    return notice('error', e.key === 'tooLong' ? errors.tooLong(e.maxDays ?? 0) : errors[e.key]);
  };

  app.get('/rapports', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const r = ctx.t.reports;
    const list = communes(ctx);
    const rooms = await serverRooms(deps, ctx.tenants);
    const tz = tenantTimeZone(registry, list[0] ?? deps.api.defaultTenant);
    const content = html`<p class="intro">${r.intro}</p>
<section aria-labelledby="r-annuel"><h2 id="r-annuel">${r.yearlyTitle}</h2><p>${r.yearlyWhat}</p>${yearlyForm(ctx, list, list[0], yearsOffered(tz), undefined)}</section>
<section aria-labelledby="r-sobriete"><h2 id="r-sobriete">${r.parsimonyTitle}</h2><p>${r.parsimonyWhat}</p>${parsimonyForm(ctx, list, {})}</section>
<section aria-labelledby="r-salle"><h2 id="r-salle">${r.datacenterTitle}</h2><p>${r.datacenterWhat}</p>${rooms.length ? datacenterForm(ctx, rooms, undefined, {}, rooms[0] ? siteTimeZone(registry, rooms[0].tenant, rooms[0].site) : tz) : html`<p class="empty">${r.noServerRoom}</p>`}</section>`;
    return page(ctx, r.title, content, 200, reply);
  });

  // — yearly review —
  const yearly = async (ctx: PageContext, query: unknown) => {
    const q = yearlyQuery.parse(query ?? {});
    const list = communes(ctx);
    const tenant = pickCommune(ctx, list, q.commune);
    const tz = tenantTimeZone(registry, tenant);
    const years = yearsOffered(tz);
    const year = q.annee ?? years[0]!;
    if (!years.includes(year) && !(year >= 2000 && year < years[0]!)) throw new PeriodError('year');
    const report = await cache.get(`annuel|${tenant}|${year}`, () => yearlyReport({ influx, registry, tenant, year }));
    return { tenant, year, years, list, report, query: { commune: list.length > 1 ? tenant : undefined, annee: String(year) } };
  };

  app.get('/rapports/annuel', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const r = ctx.t.reports;
    try {
      const y = await yearly(ctx, req.query);
      const title = r.yearlyPageTitle(y.year, ctx.names.tenant(y.tenant));
      const content = html`<p><a href="/rapports">${r.back}</a></p>
${yearlyForm(ctx, y.list, y.tenant, y.years, y.year)}
${yearlySummary(ctx, y.report)}
${downloads(ctx, '/rapports/annuel', y.query, title)}
${frame(ctx, '/rapports/annuel', y.query, title)}`;
      return page(ctx, title, content, 200, reply);
    } catch (e) {
      const list = communes(ctx);
      return page(ctx, r.yearlyTitle, html`<p><a href="/rapports">${r.back}</a></p>${periodError(ctx, e)}${yearlyForm(ctx, list, list[0], yearsOffered(tenantTimeZone(registry, list[0] ?? '')), undefined)}`, 400, reply);
    }
  });

  app.get('/rapports/annuel/document', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const y = await yearly(ctx, req.query).catch(badPeriod);
    return sendDocument(reply, renderYearlyHtml(y.report, ctx.lang), 'text/html; charset=utf-8');
  });

  app.get('/rapports/annuel/telecharger', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const y = await yearly(ctx, req.query).catch(badPeriod);
    const { format } = formatQuery.parse(req.query ?? {});
    const name = `${ctx.lang === 'fr' ? 'revue-reen' : 'reen-review'}-${y.year}-${y.tenant}.${format}`;
    exported(req, ctx, y.tenant, `yearly ${y.year} ${format}`);
    return format === 'csv'
      ? sendDocument(reply, yearlyCsv(y.report, ctx.lang), 'text/csv; charset=utf-8', attachment(name))
      : sendDocument(reply, renderYearlyHtml(y.report, ctx.lang), 'text/html; charset=utf-8', attachment(name));
  });

  // — parsimony —
  const parsimony = async (ctx: PageContext, query: unknown) => {
    const q = parsimonyQuery.parse(query ?? {});
    const list = communes(ctx);
    const tenant = pickCommune(ctx, list, q.commune);
    const tz = tenantTimeZone(registry, tenant);
    const now = new Date();
    // Presets end at the current hour, so that the page, its frame and a download a minute later share one report.
    const hour = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000);
    const period = q.jours === 'dates' ? datesPeriod(q.du, q.au, tz, MAX_PARSIMONY_DAYS, now) : { from: new Date(hour.getTime() - Number(q.jours) * DAY), to: hour, ongoing: true };
    const report = await cache.get(`sobriete|${tenant}|${period.from.getTime()}|${period.to.getTime()}`, () => parsimonyReport({ influx, registry, tenant, from: period.from, to: period.to }));
    const keep = { commune: list.length > 1 ? tenant : undefined, jours: q.jours, du: q.jours === 'dates' ? q.du : undefined, au: q.jours === 'dates' ? q.au : undefined };
    return { tenant, tz, list, q, report, query: keep };
  };

  app.get('/rapports/sobriete', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const r = ctx.t.reports;
    try {
      const p = await parsimony(ctx, req.query);
      const title = r.parsimonyPageTitle(ctx.names.tenant(p.tenant));
      const rep: ParsimonyReport = p.report;
      const content = html`<p><a href="/rapports">${r.back}</a></p>
${parsimonyForm(ctx, p.list, { ...p.q, commune: p.tenant })}
<section aria-labelledby="couverture"><h2 id="couverture">${r.coverageTitle}</h2>
<p>${r.parsimonyPeriod(rangeText(ctx, rep.period.from, rep.period.to, p.tz, true), ctx.fmt.number(rep.period.days, 1))}</p>
<p>${r.parsimonySummary(rep.totals.devices, rep.totals.flagged)}</p></section>
${downloads(ctx, '/rapports/sobriete', p.query, title)}
${frame(ctx, '/rapports/sobriete', p.query, title)}`;
      return page(ctx, title, content, 200, reply);
    } catch (e) {
      const list = communes(ctx);
      const q = parsimonyQuery.parse(req.query ?? {});
      return page(ctx, r.parsimonyTitle, html`<p><a href="/rapports">${r.back}</a></p>${periodError(ctx, e)}${parsimonyForm(ctx, list, q)}`, 400, reply);
    }
  });

  app.get('/rapports/sobriete/document', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const p = await parsimony(ctx, req.query).catch(badPeriod);
    return sendDocument(reply, renderParsimonyHtml(p.report, ctx.lang, { timeZone: p.tz }), 'text/html; charset=utf-8');
  });

  app.get('/rapports/sobriete/telecharger', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const p = await parsimony(ctx, req.query).catch(badPeriod);
    const { format } = formatQuery.parse(req.query ?? {});
    const name = `${ctx.lang === 'fr' ? 'sobriete-radio' : 'radio-parsimony'}-${p.tenant}-${p.report.period.from.slice(0, 10)}.${format}`;
    exported(req, ctx, p.tenant, `parsimony ${p.report.period.from}/${p.report.period.to} ${format}`);
    return format === 'csv'
      ? sendDocument(reply, parsimonyCsv(p.report), 'text/csv; charset=utf-8', attachment(name))
      : sendDocument(reply, renderParsimonyHtml(p.report, ctx.lang, { timeZone: p.tz }), 'text/html; charset=utf-8', attachment(name));
  });

  // — datacenter —
  const datacenter = async (ctx: PageContext, query: unknown) => {
    const q = datacenterQuery.parse(query ?? {});
    const rooms = await serverRooms(deps, ctx.tenants);
    const [t, s] = (q.salle ?? '').split('/');
    const asked = t !== undefined && s !== undefined && tenantId.safeParse(t).success && siteId.safeParse(s).success ? { tenant: t, site: s } : undefined;
    if (q.salle !== undefined && !asked) throw new ApiError(404, 'not_found', 'server room');
    const room = asked ? rooms.find((x) => x.tenant === asked.tenant && x.site === asked.site) : rooms[0];
    // Another commune's room, or a site without server-room meters: not found (nothing to learn from the answer).
    if (!room) throw new ApiError(404, 'not_found', 'server room');
    pickCommune(ctx, [room.tenant], room.tenant);
    const timeZone = siteTimeZone(registry, room.tenant, room.site);
    const period = datacenterPeriod(q.periode, q.du, q.au, timeZone);
    const view = await cache.get(`salle|${room.tenant}|${room.site}|${period.from.getTime()}|${period.ongoing ? Math.floor(period.to.getTime() / 60_000) : period.to.getTime()}|${ctx.lang}`, async (): Promise<DatacenterView> => {
      const meters = await readMeterSeries(influx, room, Object.values(DATACENTER_ROLES), period.from, period.to);
      const report = buildDatacenterReport({ ...room, from: period.from, to: period.to, meters, category: pueCategoryFor(reportsConfigOf(registry), room.tenant, room.site), lang: ctx.lang });
      const f = period.from.getTime();
      const e = period.to.getTime();
      const byMeter = new Map(meters.map((m) => [`${m.devEui}|${m.role}`, m]));
      return {
        ...room,
        timeZone,
        period,
        report,
        meters: report.meters.map((m) => {
          const points = byMeter.get(`${m.devEui}|${m.role}`)?.points ?? [];
          return { devEui: m.devEui, device: m.device, role: m.role, kwh: m.kwh, readings: m.readings, coverage: coverageOf(points, f, e), covered: coveredSpan(points, f, e) };
        }),
      };
    });
    return { rooms, room, q, view, query: { salle: `${room.tenant}/${room.site}`, periode: q.periode, du: q.periode === 'dates' ? q.du : undefined, au: q.periode === 'dates' ? q.au : undefined } };
  };

  app.get('/rapports/salle-serveurs', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const r = ctx.t.reports;
    try {
      const d = await datacenter(ctx, req.query);
      const title = r.datacenterPageTitle(ctx.names.site(d.room.tenant, d.room.site));
      const content = html`<p><a href="/rapports">${r.back}</a></p>
${datacenterForm(ctx, d.rooms, d.query.salle, d.q, d.view.timeZone)}
<section aria-labelledby="indicateurs"><h2 id="indicateurs">${r.coverageTitle}</h2>${datacenterBody(ctx, d.view)}</section>
${downloads(ctx, '/rapports/salle-serveurs', d.query)}`;
      return page(ctx, title, content, 200, reply);
    } catch (e) {
      if (!(e instanceof PeriodError)) throw e;
      const rooms = await serverRooms(deps, ctx.tenants);
      const q = datacenterQuery.parse(req.query ?? {});
      const tz = rooms[0] ? siteTimeZone(registry, rooms[0].tenant, rooms[0].site) : 'Europe/Paris';
      return page(ctx, r.datacenterTitle, html`<p><a href="/rapports">${r.back}</a></p>${periodError(ctx, e)}${datacenterForm(ctx, rooms, q.salle, q, tz)}`, 400, reply);
    }
  });

  app.get('/rapports/salle-serveurs/telecharger', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const d = await datacenter(ctx, req.query).catch(badPeriod);
    const { format } = formatQuery.parse(req.query ?? {});
    const name = `${ctx.lang === 'fr' ? 'salle-serveurs' : 'server-room'}-${d.room.tenant}-${d.room.site}-${d.view.report.period.from.slice(0, 10)}.${format}`;
    exported(req, ctx, d.room.tenant, `datacenter ${d.room.site} ${d.view.report.period.from}/${d.view.report.period.to} ${format}`);
    if (format === 'csv') return sendDocument(reply, datacenterReportCsv(d.view.report), 'text/csv; charset=utf-8', attachment(name));
    const title = ctx.t.reports.datacenterPageTitle(ctx.names.site(d.room.tenant, d.room.site));
    return sendDocument(reply, standaloneDocument(ctx.lang, title, datacenterBody(ctx, d.view)), 'text/html; charset=utf-8', attachment(name));
  });
}

/** A download or frame with an impossible period: a plain 400 (its page says why). */
function badPeriod(e: unknown): never {
  if (e instanceof PeriodError) throw new ApiError(400, 'bad_request', e.key);
  throw e;
}
