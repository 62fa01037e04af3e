/**
 * Alertes, the home page: the alerts of the communes the key covers, by state, with filters kept in the query
 * string; one alert with its sentence, figures, rule, action, evidence chart and history; acknowledge and resolve
 * (operator role, like the API's POST /alerts/{id}/acknowledge and /resolve, through the same alert book).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { localDayBounds } from '../../time/calendar.ts';
import { ruleCatalogue } from '../../alerts/catalogue.ts';
import type { Alert } from '../../alerts/model.ts';
import { ALERT_EVENT } from '../../storage/schema.ts';
import { allRows } from '../../storage/influx.ts';
// `select` is the page's form control: the InfluxQL statement is `selectStatement`.
import { select as selectStatement } from '../../storage/influxql.ts';
import { ALERT_CATEGORIES, ALERT_SEVERITIES, listAlertSummaries, loadAlertsOfPage } from '../../api/alerts-list.ts';
import { loadAlerts } from '../../alerts/store.ts';
import { hasRole } from '../../api/keys.ts';
import { alertId, siteId, tenantId } from '../../api/params.ts';
import { ApiError, requestedTenants, tenantConditions } from '../../api/scope.ts';
import { badge, chart, figures, pagination, seriesRange } from '../components.ts';
import { pageOf, type PageContext } from '../context.ts';
import { evidenceOf } from '../evidence.ts';
import { html, type Html } from '../html.ts';
import { csrfField, layout, notice } from '../layout.ts';
import { sendPage, type ConsoleDeps } from '../page.ts';

const PAGE_SIZE = 25;
const STATES = ['open', 'acknowledged', 'resolved', 'all'] as const;
const PERIODS = ['7', '30', '90', '365'] as const;
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Filters of the list; a value that does not parse is dropped (a shared link with a typo still shows a page). */
const listQuery = z.object({
  etat: z.enum(STATES).catch('open').default('open'),
  commune: tenantId.optional().catch(undefined),
  site: siteId.optional().catch(undefined),
  domaine: z.enum(ALERT_CATEGORIES).optional().catch(undefined),
  gravite: z.enum(ALERT_SEVERITIES).optional().catch(undefined),
  regle: z.string().regex(/^[A-Z][A-Z0-9]{0,7}$/).optional().catch(undefined),
  jours: z.enum(PERIODS).catch('30').default('30'),
  du: day.optional().catch(undefined),
  au: day.optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1),
});

const SEVERITY_KIND: Record<string, string> = { info: 'info', warning: 'warning', major: 'major', critical: 'critical' };

const PARIS = 'Europe/Paris';

function period(q: z.infer<typeof listQuery>): { from: Date; to: Date } {
  const now = Date.now();
  // Explicit days are whole days in Paris time; the preset is the last N days up to now.
  const from = q.du ? localDayBounds(q.du, PARIS).start : new Date(now - Number(q.jours) * 86_400_000);
  const to = q.au ? localDayBounds(q.au, PARIS).end : new Date(now + 60_000);
  if (to.getTime() <= from.getTime() || to.getTime() - from.getTime() > 366 * 86_400_000) throw new ApiError(400, 'bad_request', 'period');
  return { from, to };
}

/** "Commune · Site · appareil", the site and the device linked to their pages (Sites, Appareil). */
export function placeOf(ctx: PageContext, a: Alert): Html {
  const s = a.subject;
  const parts: Html[] = [html`<a href="/sites/${encodeURIComponent(s.tenant)}/${encodeURIComponent(s.site)}">${ctx.names.site(s.tenant, s.site)}</a>`];
  if (s.device) parts.push(s.devEui ? html`<a href="/appareils/${s.devEui}">${s.device}</a>` : html`${s.device}`);
  if (!ctx.tenants || ctx.tenants.length > 1) parts.unshift(html`${ctx.names.tenant(s.tenant)}`);
  return html`${parts.flatMap((p, i) => (i ? [html` · `, p] : [p]))}`;
}

function stateBadge(ctx: PageContext, a: Alert): Html {
  return badge(`state-${a.state}`, ctx.t.alerts.state[a.state] ?? a.state);
}

function severityBadge(ctx: PageContext, a: Alert): Html {
  return badge(`sev-${SEVERITY_KIND[a.severity] ?? 'info'}`, ctx.t.alerts.severities[a.severity] ?? a.severity);
}

function select(id: string, label: string, name: string, value: string | undefined, options: [string, string][], anyLabel?: string): Html {
  return html`<div class="field"><label for="${id}">${label}</label>
<select id="${id}" name="${name}">${anyLabel !== undefined ? html`<option value="">${anyLabel}</option>` : ''}${options.map(([v, text]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${text}</option>`)}</select></div>`;
}

/** "Prise en compte le 6 déc. à 14:05 par astreinte eau : « plombier appelé »" under an alert of the list. */
function handled(ctx: PageContext, type: 'acknowledged' | 'resolved', by: Alert['acknowledged']): Html {
  if (!by) return html``;
  return html`<p class="handled"><strong>${ctx.t.alert.events[type]}</strong> ${ctx.fmt.dateTime(by.at)} ${ctx.t.alert.by(by.by)}${by.comment ? (ctx.lang === 'fr' ? html`${ctx.t.colon}« ${by.comment} »` : html`${ctx.t.colon}“${by.comment}”`) : ''}</p>`;
}

function listPage(ctx: PageContext, q: z.infer<typeof listQuery>, list: { total: number; shown: Alert[]; page: number; pages: number; tenants: string[] }, sites: [string, string][], periodText: string): Html {
  const t = ctx.t;
  const { shown, page, pages } = list;
  const keep = { commune: q.commune, site: q.site, domaine: q.domaine, gravite: q.gravite, regle: q.regle, jours: q.jours, du: q.du, au: q.au };
  const tabLink = (state: string) => `/?${new URLSearchParams(Object.entries({ ...keep, etat: state }).filter((e): e is [string, string] => !!e[1])).toString()}`;
  const rules = ruleCatalogue().map((r) => [r.id, `${r.id} – ${r.title[ctx.lang]}`] as [string, string]);
  const communes = (ctx.tenants ?? list.tenants).map((id) => [id, ctx.names.tenant(id)] as [string, string]);
  return html`<p class="intro">${t.alerts.intro}</p>
<nav class="tabs" aria-label="${t.alerts.stateTabs}"><ul>
${STATES.map((s) => html`<li><a href="${tabLink(s)}"${s === q.etat ? html` aria-current="page"` : ''}>${t.alerts.states[s]}</a></li>`)}
</ul></nav>
<form method="get" action="/" class="filters" aria-label="${t.alerts.filters}">
  <input type="hidden" name="etat" value="${q.etat}">
  ${communes.length > 1 ? select('f-commune', t.commune, 'commune', q.commune, communes, t.allCommunes) : ''}
  ${select('f-site', t.site, 'site', q.site, sites, t.alerts.any)}
  ${select('f-domaine', t.alerts.category, 'domaine', q.domaine, ALERT_CATEGORIES.map((c) => [c, t.alerts.categories[c] ?? c]), t.alerts.any)}
  ${select('f-gravite', t.alerts.severity, 'gravite', q.gravite, ALERT_SEVERITIES.map((s) => [s, t.alerts.severities[s] ?? s]), t.alerts.any)}
  ${select('f-regle', t.alerts.rule, 'regle', q.regle, rules, t.alerts.any)}
  ${select('f-jours', t.period, 'jours', q.jours, PERIODS.map((d) => [d, t.alerts.periodDays(Number(d))]))}
  <div class="field"><label for="f-du">${t.from}</label><input id="f-du" name="du" type="date" value="${q.du ?? ''}"></div>
  <div class="field"><label for="f-au">${t.to}</label><input id="f-au" name="au" type="date" value="${q.au ?? ''}"></div>
  <div class="actions"><button type="submit">${t.apply}</button> <a href="/?etat=${q.etat}">${t.reset}</a></div>
</form>
<p class="count" role="status">${t.alerts.countIn(list.total, periodText)}</p>
${
  shown.length === 0
    ? html`<p class="empty">${t.alerts.none}</p>`
    : html`<ol class="alert-list">${shown.map(
        (a) => html`<li class="alert-item sev-${SEVERITY_KIND[a.severity] ?? 'info'}">
  <h2><a href="/alertes/${a.id}">${a.title[ctx.lang]}</a></h2>
  <p class="badges">${severityBadge(ctx, a)} ${stateBadge(ctx, a)} <span class="category">${t.alerts.categories[a.category] ?? a.category}</span></p>
  <p class="sentence">${a.message[ctx.lang]}</p>
  <p class="meta"><span>${t.alerts.where}${t.colon}${placeOf(ctx, a)}</span> <span>${t.alerts.started}${t.colon}${ctx.fmt.dateTime(a.startedAt)}</span>${a.endedAt ? html` <span>${t.alerts.ended}${t.colon}${ctx.fmt.dateTime(a.endedAt)}</span>` : ''}</p>
  ${handled(ctx, 'acknowledged', a.acknowledged)}${handled(ctx, 'resolved', a.resolved)}
</li>`,
      )}</ol>`
}
${pagination(ctx, '/', { ...keep, etat: q.etat }, page, pages)}`;
}

interface HistoryEntry {
  type: string;
  at: Date;
  by?: string | undefined;
  comment?: string | undefined;
}

/** The stored events of one alert, oldest first (opened, escalated, acknowledged, resolved). */
async function historyOf(deps: ConsoleDeps, a: Alert): Promise<HistoryEntry[]> {
  const from = a.startedAt.getTime() - 3_600_000;
  const rows = allRows(
    await deps.api.influx.query(
      selectStatement({
        select: [{ field: 'event' }, { field: 'details' }],
        from: ALERT_EVENT.measurement,
        where: [{ time: '>=', at: from }, { tag: 'alert_id', equals: a.id }, ...tenantConditions([a.subject.tenant])],
        order: 'asc',
        limit: 200,
      }),
    ),
  );
  const out: HistoryEntry[] = rows.map((r) => {
    const type = String(r.event);
    const d = JSON.parse(String(r.details ?? '{}')) as { acknowledged?: { by: string; comment: string }; resolved?: { by: string; comment: string } };
    const who = type === 'acknowledged' ? d.acknowledged : type === 'resolved' ? d.resolved : undefined;
    return { type, at: new Date(Number(r.time)), by: who?.by, comment: who?.comment };
  });
  // The book may hold an event not yet written to InfluxDB (written within a second): show it too.
  const seen = new Set(out.map((e) => e.type));
  if (!seen.has('opened')) out.unshift({ type: 'opened', at: a.startedAt });
  if (a.acknowledged && !seen.has('acknowledged')) out.push({ type: 'acknowledged', at: a.acknowledged.at, by: a.acknowledged.by, comment: a.acknowledged.comment });
  if (a.resolved && !seen.has('resolved')) out.push({ type: 'resolved', at: a.resolved.at, by: a.resolved.by, comment: a.resolved.comment });
  return out.sort((x, y) => x.at.getTime() - y.at.getTime());
}

/** An alert the principal may see, live or stored; another commune's is "not found". */
async function findAlert(deps: ConsoleDeps, ctx: PageContext, id: string): Promise<Alert> {
  const live = deps.api.alerts?.book.find(id);
  const tenants = requestedTenants(ctx.principal, undefined);
  const alert = live ?? (await loadAlerts(deps.api.influx, { from: new Date(Date.now() - 366 * 86_400_000), to: new Date(Date.now() + 86_400_000), scope: tenantConditions(tenants), alertId: id }))[0];
  if (!alert || (tenants && !tenants.includes(alert.subject.tenant))) throw new ApiError(404, 'not_found', 'alert');
  return alert;
}

async function detailPage(deps: ConsoleDeps, ctx: PageContext, a: Alert, done: string | undefined, error: string | undefined): Promise<Html> {
  const t = ctx.t;
  const deviceNames = new Map(deps.api.registry.devices.map((d) => [d.devEui, d.name]));
  const [history, evidence] = await Promise.all([historyOf(deps, a), evidenceOf(deps.api, a, (eui, fallback) => deviceNames.get(eui) ?? fallback)]);
  const tz = evidence?.timeZone;
  const windowText = t.periodRange(ctx.fmt.dateTime(a.window.from, tz), ctx.fmt.dateTime(a.window.to, tz));
  let evidenceHtml: Html;
  if (!evidence) evidenceHtml = html`<p>${t.alert.evidenceNone}</p>`;
  else {
    const range = seriesRange(evidence.series);
    const what = evidence.perHour ? t.alert.perHour : quantityTitle(ctx, evidence.quantity);
    const unit = evidence.perHour ? `${evidence.unit}/h` : evidence.unit;
    const periodText = t.periodRange(ctx.fmt.dateTime(evidence.from, tz), ctx.fmt.dateTime(evidence.to, tz));
    const digits = evidence.unit === 'kWh' ? 2 : 1;
    const lines = evidence.thresholds.map((v) => ({ value: v, text: ctx.fmt.quantity(v, unit, digits) }));
    evidenceHtml = range
      ? chart(ctx, {
          id: 'preuve',
          title: what,
          unit: evidence.quantity === 'water.leak' ? '' : unit,
          series: evidence.series,
          timeZone: evidence.timeZone,
          steps: evidence.quantity === 'water.leak',
          digits,
          // One line is "the threshold"; several (the class limits of an index) are told apart by their value.
          thresholds: lines.map((l) => ({ value: l.value, legend: lines.length > 1 ? `${t.threshold} ${l.text}` : t.threshold })),
          thresholdsText: lines.length ? t.alert.thresholdLine(lines.map((l) => l.text)) : undefined,
          summary: t.alert.evidenceSummary(what, periodText, range.n, ctx.fmt.quantity(range.min, unit, digits), ctx.fmt.quantity(range.max, unit, digits)),
        })
      : html`<p>${t.alert.evidenceEmpty}</p>`;
  }
  const mayAct = hasRole(ctx.principal.role, 'operator');
  const actionForm = (action: 'prise-en-compte' | 'resolution', label: string) => html`<form method="post" action="/alertes/${a.id}/${action}" class="action-form">
  <fieldset class="stack"><legend>${label}</legend>
  ${csrfField(ctx)}
  <label for="commentaire-${action}">${t.alert.comment}</label>
  <p class="hint" id="aide-${action}">${t.alert.commentHint}</p>
  <textarea id="commentaire-${action}" name="commentaire" rows="3" maxlength="2000" required aria-describedby="aide-${action}"></textarea>
  <button type="submit">${label}</button>
  </fieldset>
</form>`;
  const doneNotice = done === 'prise-en-compte' ? notice('ok', t.alert.acknowledged) : done === 'resolution' ? notice('ok', t.alert.resolvedDone) : '';
  const errorNotice = error === 'commentaire' ? notice('error', t.alert.commentMissing) : error === 'etat' ? notice('error', t.alert.conflict(t.alerts.state[a.state] ?? a.state)) : '';
  return html`<p><a href="/">${t.alert.back}</a></p>
${doneNotice}${errorNotice}
<p class="badges">${severityBadge(ctx, a)} ${stateBadge(ctx, a)} <span class="category">${t.alerts.categories[a.category] ?? a.category}</span></p>
<p class="meta"><span>${t.alerts.where}${t.colon}${placeOf(ctx, a)}</span> <span>${t.alerts.started}${t.colon}${ctx.fmt.dateTime(a.startedAt)}</span> <span>${t.alerts.lastSeen}${t.colon}${ctx.fmt.dateTime(a.lastFiringAt)}</span></p>
<section aria-labelledby="constat"><h2 id="constat">${t.alert.what}</h2><p class="sentence">${a.message[ctx.lang]}</p></section>
<section aria-labelledby="chiffres" class="two-columns">
  <h2 id="chiffres">${t.alert.figures}</h2>
  <div><h3>${t.alert.measured}</h3>${figures(ctx, a.measured)}</div>
  <div><h3>${t.alert.thresholds}</h3>${figures(ctx, a.thresholds)}</div>
  <p><strong>${t.alert.window}${t.colon}</strong> ${windowText}</p>
</section>
<section aria-labelledby="preuve-titre"><h2 id="preuve-titre">${t.alert.evidence}</h2>${evidenceHtml}</section>
<section aria-labelledby="action"><h2 id="action">${t.alert.action}</h2><p>${a.action[ctx.lang]}</p></section>
<section aria-labelledby="fondement"><h2 id="fondement">${t.alert.source}</h2><p>${a.source.text[ctx.lang]}${a.source.reference ? html` <span class="reference">(${a.source.reference})</span>` : ''}</p><p class="hint">${t.alert.rule(a.ruleId, a.ruleVersion)}</p></section>
<section aria-labelledby="historique"><h2 id="historique">${t.alert.history}</h2>
<ol class="history">${history.map(
    (e) =>
      html`<li><strong>${t.alert.events[e.type] ?? e.type}</strong> ${ctx.fmt.dateTime(e.at)}${e.by ? html` ${t.alert.by(e.by)}` : e.type === 'resolved' ? html` ${t.alert.automatic}` : ''}${e.comment ? html`<blockquote>${e.comment}</blockquote>` : ''}</li>`,
  )}</ol></section>
${
  a.state === 'resolved'
    ? ''
    : mayAct
      ? html`<section aria-labelledby="agir" class="act"><h2 id="agir">${t.alert.act}</h2>${a.state === 'open' ? actionForm('prise-en-compte', t.alert.acknowledge) : ''}${actionForm('resolution', t.alert.resolve)}</section>`
      : html`<p class="hint">${t.alert.readOnly}</p>`
}`;
}

function quantityTitle(ctx: PageContext, quantity: string): string {
  return ctx.t.alert.quantities[quantity] ?? quantity;
}

export function alertPages(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const q = listQuery.parse(req.query ?? {});
    const tenants = requestedTenants(ctx.principal, q.commune);
    const range = period(q);
    const filter = { tenants, ...range, state: q.etat, site: q.site, severity: q.gravite, category: q.domaine, rule: q.regle };
    // Summaries of every matching alert (ids, states, dates: one light query), then the whole alerts of this page only.
    const summaries = await listAlertSummaries(deps.api, filter);
    const pages = Math.max(1, Math.ceil(summaries.length / PAGE_SIZE));
    const page = Math.min(q.page, pages);
    const shown = await loadAlertsOfPage(deps.api, summaries.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), filter);
    const siteOf = (tenant: string, site: string) => [site, ctx.names.site(tenant, site)] as [string, string];
    const registry = deps.api.registry;
    const covered = (tenant: string | undefined) => !tenants || tenants.includes(tenant ?? deps.api.defaultTenant);
    const sites = [
      ...new Map([
        ...summaries.map((a) => siteOf(a.tenant, a.site)),
        ...registry.sites.filter((s) => !s.tenant || covered(s.tenant)).map((s) => siteOf(s.tenant ?? '', s.site)),
        ...registry.devices.filter((d) => d.site && covered(d.tenant)).map((d) => siteOf(d.tenant ?? deps.api.defaultTenant, d.site!)),
      ]),
    ].sort((x, y) => x[1].localeCompare(y[1], ctx.lang));
    const communes = [...new Set([...registry.tenants.map((x) => x.id), ...summaries.map((a) => a.tenant)])].sort();
    const periodText = q.du || q.au ? ctx.t.periodRange(ctx.fmt.date(range.from), ctx.fmt.date(new Date(range.to.getTime() - 1))) : ctx.t.alerts.periodDays(Number(q.jours));
    return sendPage(reply, 200, layout(ctx, { title: ctx.t.alerts.title, section: 'alerts', content: listPage(ctx, q, { total: summaries.length, shown, page, pages, tenants: communes }, sites, `(${periodText})`) }));
  });

  app.get('/alertes/:id', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const id = alertId.safeParse((req.params as { id: string }).id);
    if (!id.success) throw new ApiError(404, 'not_found', 'alert');
    const a = await findAlert(deps, ctx, id.data);
    const q = req.query as Record<string, string | undefined>;
    return sendPage(reply, 200, layout(ctx, { title: a.title[ctx.lang], section: 'alerts', content: await detailPage(deps, ctx, a, q.fait, q.erreur) }));
  });

  const action = (path: 'prise-en-compte' | 'resolution') =>
    app.post(`/alertes/:id/${path}`, { config: { console: true, role: 'operator' }, schema: { hide: true } }, async (req, reply) => {
      const ctx = pageOf(req);
      const id = alertId.safeParse((req.params as { id: string }).id);
      if (!id.success) throw new ApiError(404, 'not_found', 'alert');
      const alerts = deps.api.alerts;
      if (!alerts) throw new ApiError(503, 'alerts_disabled', 'alerts are disabled');
      const a = await findAlert(deps, ctx, id.data);
      const comment = String((req.body as Record<string, unknown>).commentaire ?? '').trim().slice(0, 2000);
      if (!comment) return reply.code(303).redirect(`/alertes/${a.id}?erreur=commentaire`);
      const by = ctx.principal.name;
      const event = path === 'prise-en-compte' ? alerts.book.acknowledge(a.id, by, comment) : alerts.book.resolve(a.id, by, comment);
      if (!event) return reply.code(303).redirect(`/alertes/${a.id}?erreur=etat`);
      // Several replicas: another person's change to the same alert recorded first wins; this one is not kept.
      if ((await alerts.record([event])).length === 0) return reply.code(303).redirect(`/alertes/${a.id}?erreur=etat`);
      req.log.warn({ keyId: ctx.principal.keyId, alert: a.id, action: path, tenant: a.subject.tenant }, 'console action');
      deps.api.audit?.ofRequest(req, ctx.principal, { action: path === 'prise-en-compte' ? 'alert.acknowledge' : 'alert.resolve', tenant: a.subject.tenant, target: a.id, detail: comment, source: 'console' });
      return reply.code(303).redirect(`/alertes/${a.id}?fait=${path}`);
    });
  action('prise-en-compte');
  action('resolution');
}
