/**
 * Conservation: how long each data class is kept, in words, and the audit log of the decisions (who, when,
 * old → new, reason), read with the functions GET /api/v1/retention and /retention/audit use. Instance-wide
 * admins change a class's retention here like POST /api/v1/retention, through the same applyChanges (audit log
 * first, then the database), except that the console asks a reason for every decision, not only for shortening:
 * a missing reason is a 422 with the form kept, and nothing is changed. A commune's key sees the settings and the
 * log, but not who, among the instance's keys and accounts, made each change.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { hasRole } from '../../api/keys.ts';
import { applyChanges, currentRetention, RetentionError, type CurrentRetention } from '../../retention/apply.ts';
import { listAudit, type AuditEntry } from '../../retention/audit.ts';
import { CLASSES, CONFIGURABLE_CLASSES, durationMs, formatDuration, type ConfigurableClass } from '../../retention/classes.ts';
import { defaultRetention } from '../../retention/config.ts';
import type { Messages } from '../i18n/index.ts';
import { pageOf, type PageContext } from '../context.ts';
import { html, type Html } from '../html.ts';
import { csrfField, layout, notice } from '../layout.ts';
import { sendPage, type ConsoleDeps } from '../page.ts';
import { pageSlice } from './fleet.ts';

const LOG_LIMIT = 500;
const LOG_PAGE = 25;
export const UNITS = ['jours', 'semaines', 'annees', 'illimite'] as const;
type Unit = (typeof UNITS)[number];

// ---------------------------------------------------------------------------------------------------------
// Pure parts (unit-tested)

type RetentionTexts = Messages['retention'];

/** "90 jours (environ 3 mois)", "730 jours (2 ans)", "sans limite", from a stored value ('90d', '36h', 'inf', 'none'). */
export function durationWords(value: string, t: RetentionTexts, number: (n: number) => string): string {
  const known = t.duration[value];
  if (known) return known;
  const ms = durationMs(value);
  if (ms === undefined) return value;
  if (!Number.isFinite(ms)) return t.duration.inf!;
  const DAY = 86_400_000;
  if (ms % DAY !== 0) return t.hours(number(Math.round(ms / 3_600_000)));
  const d = ms / DAY;
  if (d === 1) return t.oneDay;
  const days = t.days(number(d));
  let about: string | undefined;
  if (d % 365 === 0) about = t.years(d / 365);
  else if (d >= 365) {
    let y = Math.floor(d / 365.25);
    let m = Math.round((d - y * 365.25) / 30.44);
    if (m === 12) {
      y += 1;
      m = 0;
    }
    about = t.aboutYears(y, m);
  } else if (d % 7 === 0 && d < 60) about = t.weeks(d / 7);
  else if (d >= 28) about = t.aboutMonths(Math.round(d / 30.44));
  return about ? `${days} (${about})` : days;
}

/** Who made a change, as this reader may see it: the instance's key names and accounts only for instance-wide keys. */
export function actorShown(e: Pick<AuditEntry, 'actor' | 'source'>, instanceWide: boolean, t: RetentionTexts): string {
  if (instanceWide) return e.actor;
  switch (e.source) {
    case 'config':
      // `changedBy` of the file names the decision's author; without it the actor is the file's path.
      return /^configuration (file|defaults)/.test(e.actor) ? t.actors.configFile : e.actor;
    case 'cli':
      return t.actors.cli;
    case 'external':
      return t.actors.external;
    default:
      return t.actors.admin;
  }
}

/** A class's name; a class this page does not know yet is named by the first words of its own description. */
export function classLabel(cls: string, t: RetentionTexts, lang: 'fr' | 'en'): string {
  const known = t.classNames[cls];
  if (known) return known;
  const d = (CLASSES as Record<string, { description: { fr: string; en: string } } | undefined>)[cls]?.description[lang];
  return d ? d.split(/[(:,]/)[0]!.trim() : cls;
}

/** "Conservation des relevés bruts" from 'retention.raw'; unknown settings from their class's name. */
export function settingLabel(setting: string, t: RetentionTexts, lang: 'fr' | 'en'): string {
  const known = t.settings[setting];
  if (known) return known;
  const m = /^retention\.(.+)$/.exec(setting);
  return m ? t.settingOf(classLabel(m[1]!, t, lang)) : setting;
}

export type ChangeProblem = 'cls' | 'value' | 'reason' | { minimum: ConfigurableClass };

/** A change as the form posts it, checked before anything is read or written. */
export function parseChange(body: Record<string, unknown>): { ok: true; cls: ConfigurableClass; value: string; reason: string } | { ok: false; problem: ChangeProblem } {
  const cls = String(body.classe ?? '');
  if (!(CONFIGURABLE_CLASSES as readonly string[]).includes(cls)) return { ok: false, problem: 'cls' };
  const unit = String(body.unite ?? '') as Unit;
  if (!UNITS.includes(unit)) return { ok: false, problem: 'value' };
  let value = 'inf';
  if (unit !== 'illimite') {
    const text = String(body.valeur ?? '').trim();
    if (!/^\d{1,5}$/.test(text) || Number(text) < 1) return { ok: false, problem: 'value' };
    const n = Number(text);
    value = formatDuration((unit === 'jours' ? n : unit === 'semaines' ? n * 7 : n * 365) * 86_400_000);
  }
  const c = cls as ConfigurableClass;
  if (durationMs(value)! < durationMs(CLASSES[c].minimum.duration)!) return { ok: false, problem: { minimum: c } };
  const reason = String(body.raison ?? '').trim();
  if (reason.length < 3) return { ok: false, problem: 'reason' };
  return { ok: true, cls: c, value, reason: reason.slice(0, 2000) };
}

// ---------------------------------------------------------------------------------------------------------
// Page

interface FormState {
  classe?: string;
  valeur?: string;
  unite?: string;
  raison?: string;
}

function changeForm(ctx: PageContext, state: FormState): Html {
  const t = ctx.t.retention;
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
  return html`<form method="post" action="/conservation" class="retention-form">
${csrfField(ctx)}
<p class="hint">${t.changeIntro}</p>
${notice('info', t.configWarning)}
<div class="retention-fields">
  <div class="field"><label for="r-classe">${t.classLabel}</label><select id="r-classe" name="classe">${CONFIGURABLE_CLASSES.map((c) => opt(c, classLabel(c, t, ctx.lang), state.classe))}</select></div>
  <div class="field"><label for="r-valeur">${t.valueLabel}</label><input id="r-valeur" name="valeur" type="number" min="1" max="99999" step="1" inputmode="numeric" value="${state.valeur ?? ''}"></div>
  <div class="field"><label for="r-unite">${t.unitLabel}</label><select id="r-unite" name="unite">${UNITS.map((u) => opt(u, t.units[u] ?? u, state.unite ?? 'jours'))}</select></div>
</div>
<div class="field"><label for="r-raison">${t.reasonLabel}</label>
<p class="hint" id="r-raison-aide">${t.reasonHint}</p>
<textarea id="r-raison" name="raison" rows="3" minlength="3" maxlength="2000" required aria-describedby="r-raison-aide">${state.raison ?? ''}</textarea></div>
<button type="submit">${t.submit}</button>
</form>`;
}

function retentionPage(ctx: PageContext, current: CurrentRetention | undefined, managed: boolean, log: AuditEntry[], page: number, form: { state: FormState; message?: Html | undefined }): Html {
  const t = ctx.t.retention;
  const instanceWide = ctx.principal.tenants === undefined;
  const words = (v: string) => durationWords(v, t, (n) => ctx.fmt.number(n, 0));
  const valueWords = (setting: string, v: string) => (setting.startsWith('retention.') ? words(v) : (t.duration[v] ?? v));
  const reasonWords = (r: string) => t.reasons[r] ?? r;
  const className = (cls: string) => classLabel(cls, t, ctx.lang);
  if (!current) return html`<p class="intro">${t.intro}</p>${notice('info', t.unavailable)}`;

  const classes = html`<section aria-labelledby="durees"><h2 id="durees">${t.classesCaption}</h2>
${managed ? '' : notice('info', t.unmanaged)}
<table><caption class="visually-hidden">${t.classesCaption}</caption>
<thead><tr><th scope="col">${t.what}</th><th scope="col">${t.content}</th><th scope="col">${t.kept}</th><th scope="col">${t.configured}</th><th scope="col">${t.lastDecision}</th></tr></thead>
<tbody>${current.classes.map((c) => {
    const last = c.lastChange;
    return html`<tr><th scope="row">${className(c.dataClass)}</th><td>${t.classes[c.dataClass] ?? c.description[ctx.lang]}${instanceWide ? html`<br><span class="hint">${t.location(c.location)}</span>` : ''}</td>
<td>${words(c.applied)}</td><td>${words(c.configured)}</td>
<td>${last ? html`${t.decidedBy(ctx.fmt.dateTime(last.at), actorShown(last, instanceWide, t))}${last.reason ? html`<br><span class="hint">${t.reason}${ctx.t.colon}${reasonWords(last.reason)}</span>` : ''}` : t.noDecision}</td></tr>`;
  })}</tbody></table>
<p>${t.rollups(current.rollups.configured.hourly, current.rollups.configured.daily, current.rollups.configured.timeZone)}</p>
</section>`;

  const mayChange = instanceWide && hasRole(ctx.principal.role, 'admin');
  const change = html`<section aria-labelledby="changer"><h2 id="changer">${t.changeTitle}</h2>
${form.message ?? ''}
${mayChange ? changeForm(ctx, form.state) : html`<p class="hint">${t.readOnly}</p>`}
</section>`;

  const lp = pageSlice(log, page, LOG_PAGE);
  const pager =
    lp.pages > 1
      ? html`<nav class="pagination" aria-label="${ctx.t.pagination}">
  ${lp.page > 1 ? html`<a href="/conservation?page=${lp.page - 1}#journal" rel="prev">${ctx.t.previous}</a>` : ''}
  <span aria-current="page">${ctx.t.pageOf(lp.page, lp.pages)}</span>
  ${lp.page < lp.pages ? html`<a href="/conservation?page=${lp.page + 1}#journal" rel="next">${ctx.t.next}</a>` : ''}
</nav>`
      : '';
  const journal = html`<section aria-labelledby="journal"><h2 id="journal">${t.logTitle}</h2>
<p>${t.logIntro}</p>
${
  log.length === 0
    ? html`<p class="empty">${t.logEmpty}</p>`
    : html`<table><caption class="visually-hidden">${t.logCaption}</caption>
<thead><tr><th scope="col">${t.when}</th><th scope="col">${t.setting}</th><th scope="col">${t.change}</th><th scope="col">${t.who}</th><th scope="col">${t.reason}</th><th scope="col">${t.source}</th><th scope="col">${t.state}</th></tr></thead>
<tbody>${lp.items.map(
        (e) =>
          html`<tr><th scope="row">${ctx.fmt.dateTime(e.at)}</th><td>${settingLabel(e.setting, t, ctx.lang)}</td><td>${valueWords(e.setting, e.oldValue)} → ${valueWords(e.setting, e.newValue)}</td><td>${actorShown(e, instanceWide, t)}</td><td>${reasonWords(e.reason)}</td><td>${t.sources[e.source] ?? e.source}</td><td>${e.applied ? t.applied : t.notApplied}</td></tr>`,
      )}</tbody></table>
${pager}`
}
</section>`;

  return html`<p class="intro">${t.intro}</p>
${classes}
${change}
${journal}`;
}

export function retentionPages(app: FastifyInstance, deps: ConsoleDeps): void {
  /** The settings and the log as GET /api/v1/retention and /retention/audit read them, for this principal's tenants. */
  const read = async (ctx: PageContext): Promise<{ current: CurrentRetention | undefined; managed: boolean; log: AuditEntry[] }> => {
    const r = deps.api.retention;
    if (!r) return { current: undefined, managed: false, log: [] };
    const tenants = ctx.tenants;
    const [current, lists] = await Promise.all([
      currentRetention({ influx: r.influx, influxConfig: r.influxConfig, retention: r.settings ?? defaultRetention() }),
      tenants ? Promise.all(tenants.map((tenant) => listAudit(r.influx, { tenant, limit: LOG_LIMIT }))) : Promise.all([listAudit(r.influx, { limit: LOG_LIMIT })]),
    ]);
    // Entries for every tenant ('*') come with each tenant's own: once each.
    const seen = new Set<string>();
    const log: AuditEntry[] = [];
    for (const e of lists.flat()) {
      const key = `${e.at.getTime()}|${e.setting}|${e.tenant}|${e.seq}`;
      if (!seen.has(key)) log.push(e);
      seen.add(key);
    }
    log.sort((a, b) => b.at.getTime() - a.at.getTime());
    return { current, managed: r.settings !== undefined, log: log.slice(0, LOG_LIMIT) };
  };
  const pageQuery = z.object({ page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1), fait: z.string().optional().catch(undefined), classe: z.string().optional().catch(undefined) });

  app.get('/conservation', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const q = pageQuery.parse(req.query ?? {});
    const t = ctx.t.retention;
    const data = await read(ctx);
    let message: Html | undefined;
    if (q.fait === 'inchange') message = notice('ok', t.unchanged);
    else if (q.fait && (CONFIGURABLE_CLASSES as readonly string[]).includes(q.fait)) {
      const applied = data.current?.classes.find((c) => c.dataClass === q.fait)?.applied;
      if (applied) message = notice('ok', t.done(classLabel(q.fait, t, ctx.lang), durationWords(applied, t, (n) => ctx.fmt.number(n, 0))));
    }
    return sendPage(reply, 200, layout(ctx, { title: t.title, section: 'retention', content: retentionPage(ctx, data.current, data.managed, data.log, q.page, { state: {}, message }) }));
  });

  app.post('/conservation', { config: { console: true, role: 'admin', instanceWide: true }, schema: { hide: true } }, async (req, reply) => {
    const ctx = pageOf(req);
    const t = ctx.t.retention;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const state: FormState = { classe: String(body.classe ?? ''), valeur: String(body.valeur ?? ''), unite: String(body.unite ?? ''), raison: String(body.raison ?? '').slice(0, 2000) };
    const refuse = async (status: number, text: string) => {
      const data = await read(ctx);
      return sendPage(reply, status, layout(ctx, { title: t.title, section: 'retention', content: retentionPage(ctx, data.current, data.managed, data.log, 1, { state, message: notice('error', text) }) }));
    };
    const r = deps.api.retention;
    if (!r) return refuse(503, t.unavailable);
    const change = parseChange(body);
    const record = (outcome: 'success' | 'refused', detail: string) =>
      deps.api.audit?.ofRequest(req, ctx.principal, { action: 'retention.change', tenant: '*', target: change.ok ? change.cls : state.classe || 'retention', detail, outcome, source: 'console' });
    if (!change.ok) {
      record('refused', typeof change.problem === 'object' ? `below the minimum of ${change.problem.minimum}` : `invalid ${change.problem}`);
      const p = change.problem;
      if (typeof p === 'object') {
        const c = p.minimum;
        return refuse(422, t.errors.minimum(classLabel(c, t, ctx.lang), durationWords(CLASSES[c].minimum.duration, t, (n) => ctx.fmt.number(n, 0)), t.minimum[c] ?? CLASSES[c].minimum.why));
      }
      // A missing reason is refused like the API refuses a shortening without one (422); so is a bad value.
      return refuse(p === 'reason' ? 422 : 400, t.errors[p]);
    }
    try {
      const report = await applyChanges({ influx: r.influx, influxConfig: r.influxConfig }, { retention: { [change.cls]: change.value }, actor: `${ctx.principal.name} (${ctx.principal.keyId})`, reason: change.reason, source: 'api' });
      req.log.warn({ keyId: ctx.principal.keyId, dataClass: change.cls, value: change.value, entries: report.entries.length }, 'console retention change');
      record('success', `${change.cls}=${change.value} · ${change.reason}`);
      return reply.code(303).redirect(`/conservation?fait=${report.entries.some((e) => e.setting === `retention.${change.cls}`) ? change.cls : 'inchange'}`);
    } catch (err) {
      if (err instanceof RetentionError) {
        record('refused', err.message);
        return refuse(422, t.errors.refused(err.message));
      }
      throw err;
    }
  });
}
