/**
 * E-mails for people: French by default (English per channel or route), plain text and a simple HTML part with the
 * same content — what happened, where, the suggested action, and the explanation (rule, measured values,
 * thresholds, window, source) so that the reader can check the alert without opening anything else.
 */
import type { AlertEvent } from '../lifecycle.ts';
import type { DisplayNames } from '../../registry/names.ts';
import { describeSubject, formatNumber, formatTime, type Alert, type Severity } from '../model.ts';
import type { Lang } from './config.ts';
import type { Notification, SummaryPayload } from './payload.ts';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const EVENT: Record<Lang, Record<AlertEvent['type'], string>> = {
  fr: { opened: 'Nouvelle alerte', escalated: 'Alerte aggravée', acknowledged: 'Alerte prise en charge', resolved: 'Alerte résolue' },
  en: { opened: 'New alert', escalated: 'Alert escalated', acknowledged: 'Alert acknowledged', resolved: 'Alert resolved' },
};
const SEVERITY: Record<Lang, Record<Severity, string>> = {
  fr: { info: 'Information', warning: 'Avertissement', major: 'Majeure', critical: 'Critique' },
  en: { info: 'Info', warning: 'Warning', major: 'Major', critical: 'Critical' },
};
const L = {
  fr: {
    colon: ' : ',
    rule: (id: string, v: number) => `règle ${id}, version ${v}`,
    action: 'Action suggérée',
    where: 'Où',
    measured: 'Valeurs mesurées',
    thresholds: 'Seuils',
    none: '(aucun)',
    window: (from: string, to: string) => `du ${from} au ${to}`,
    windowLabel: 'Fenêtre observée',
    since: 'Début',
    acknowledged: 'Prise en charge',
    resolved: 'Résolue',
    by: (who: string, at: string, comment: string) => `par ${who} le ${at}${comment ? ` (« ${comment} »)` : ''}`,
    source: 'Source de la règle',
    ids: (alert: string, event: string) => `Alerte ${alert}, événement ${event}.`,
    footer: 'Message envoyé par Veilleur, veille des consommations d’eau et d’énergie.',
    summarySubject: (n: number, route: string) => `${n} ${n > 1 ? 'événements regroupés' : 'événement regroupé'} (limite de la route ${route})`,
    summaryIntro: (route: string, max: number, per: string) =>
      `La route « ${route} » a atteint sa limite de ${max} notification${max > 1 ? 's' : ''} par ${per} : les événements suivants ont été regroupés dans ce message.`,
    minutes: (m: number) => (m === 1 ? 'minute' : `${formatNumber.fr(m)} minutes`),
    omitted: (n: number) => `… et ${n} autre${n > 1 ? 's' : ''}, enregistré${n > 1 ? 's' : ''} dans l’historique des alertes.`,
  },
  en: {
    colon: ': ',
    rule: (id: string, v: number) => `rule ${id}, version ${v}`,
    action: 'Suggested action',
    where: 'Where',
    measured: 'Measured',
    thresholds: 'Thresholds',
    none: '(none)',
    window: (from: string, to: string) => `from ${from} to ${to}`,
    windowLabel: 'Window',
    since: 'Started',
    acknowledged: 'Acknowledged',
    resolved: 'Resolved',
    by: (who: string, at: string, comment: string) => `by ${who} on ${at}${comment ? ` ("${comment}")` : ''}`,
    source: 'Rule source',
    ids: (alert: string, event: string) => `Alert ${alert}, event ${event}.`,
    footer: 'Sent by Veilleur, the water and energy watch.',
    summarySubject: (n: number, route: string) => `${n} ${n > 1 ? 'events' : 'event'} held back (rate limit of route ${route})`,
    summaryIntro: (route: string, max: number, per: string) =>
      `Route "${route}" reached its limit of ${max} notification${max > 1 ? 's' : ''} per ${per}: the following events are grouped in this message.`,
    minutes: (m: number) => (m === 1 ? 'minute' : `${formatNumber.en(m)} minutes`),
    omitted: (n: number) => `… and ${n} more, kept in the alert history.`,
  },
} as const;

/** `names`: display names of communes and sites (the configuration's `name:`); without them, identifiers. */
export function renderMail(n: Notification, lang: Lang, prefix: string, names?: DisplayNames): RenderedMail {
  return n.kind === 'event' ? renderEvent(n.event, n.id, lang, prefix, names) : renderSummary(n.summary, lang, prefix, names);
}

function value(v: number | string, lang: Lang): string {
  return typeof v === 'number' ? formatNumber[lang](v) : v;
}

function pairs(values: Record<string, number | string>, lang: Lang): string {
  const entries = Object.entries(values);
  return entries.length ? entries.map(([k, v]) => `${k} = ${value(v, lang)}`).join(', ') : L[lang].none;
}

/** "fuite-chaufferie (Mairie, chaufferie) — Commune de Saint-Veilleur, DevEUI 24e1…": the DevEUI to find the device. */
function whereLine(a: Alert, lang: Lang, names: DisplayNames | undefined): string {
  const s = a.subject;
  const extra = [names?.tenant(s.tenant) ?? s.tenant, s.devEui ? `DevEUI ${s.devEui}` : undefined].filter(Boolean).join(', ');
  return `${describeSubject(s, names?.site)[lang]} — ${extra}`;
}

function renderEvent(e: AlertEvent, id: string, lang: Lang, prefix: string, names: DisplayNames | undefined): RenderedMail {
  const a = e.alert;
  const t = L[lang];
  const who = describeSubject(a.subject, names?.site)[lang];
  const subject = `${prefix} ${SEVERITY[lang][a.severity]} · ${EVENT[lang][e.type]} ${a.ruleId}${t.colon}${a.title[lang]} — ${who}`.trim();
  // Label/value rows shared by the text and the HTML parts.
  const rows: [string, string][] = [
    [t.where, whereLine(a, lang, names)],
    [t.measured, pairs(a.measured, lang)],
    [t.thresholds, pairs(a.thresholds, lang)],
    [t.windowLabel, t.window(formatTime[lang](a.window.from), formatTime[lang](a.window.to))],
    [t.since, formatTime[lang](a.startedAt)],
  ];
  if (a.acknowledged) rows.push([t.acknowledged, t.by(a.acknowledged.by, formatTime[lang](a.acknowledged.at), a.acknowledged.comment)]);
  if (a.resolved) rows.push([t.resolved, t.by(a.resolved.by, formatTime[lang](a.resolved.at), a.resolved.comment)]);
  rows.push([t.source, `${a.source.text[lang]} (${a.source.reference})`]);
  const heading = `${EVENT[lang][e.type]} — ${SEVERITY[lang][a.severity]}`;
  const ruleLine = `${a.title[lang]} (${t.rule(a.ruleId, a.ruleVersion)})`;
  const text = [
    heading,
    ruleLine,
    '',
    a.message[lang],
    '',
    `${t.action}${t.colon}${a.action[lang]}`,
    '',
    ...rows.map(([k, v]) => `${k}${t.colon}${v}`),
    '',
    t.ids(a.id, id),
    '-- ',
    t.footer,
    '',
  ].join('\n');
  const html = page(
    lang,
    subject,
    [
      `<h2 style="margin:0 0 4px">${esc(heading)}</h2>`,
      `<p style="margin:0 0 12px;color:#555">${esc(ruleLine)}</p>`,
      `<p style="font-size:1.1em">${esc(a.message[lang])}</p>`,
      `<p style="padding:8px;background:#fff4e5;border-left:4px solid #e8890c"><strong>${esc(t.action)}</strong>${esc(t.colon)}${esc(a.action[lang])}</p>`,
      `<table style="border-collapse:collapse">${rows.map(([k, v]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top">${esc(k)}</th><td style="padding:2px 0">${esc(v)}</td></tr>`).join('')}</table>`,
      `<p style="color:#777;font-size:0.9em">${esc(t.ids(a.id, id))}<br>${esc(t.footer)}</p>`,
    ].join('\n'),
  );
  return { subject, text, html };
}

function renderSummary(s: SummaryPayload, lang: Lang, prefix: string, names: DisplayNames | undefined): RenderedMail {
  const t = L[lang];
  const subject = `${prefix} ${t.summarySubject(s.count, s.route)}`.trim();
  const intro = t.summaryIntro(s.route, s.rateLimit.max, t.minutes(s.rateLimit.perMinutes));
  const lines = s.events.map((e) => {
    const where = [names?.site(e.tenant, e.site) ?? e.site, e.device].filter(Boolean).join(', ');
    return `${formatTime[lang](new Date(e.at))} · ${SEVERITY[lang][e.severity]} · ${EVENT[lang][e.event]} · ${e.ruleId} · ${where}${t.colon}${e.message[lang]}`;
  });
  const omitted = s.omitted > 0 ? t.omitted(s.omitted) : undefined;
  const text = [intro, '', ...lines.map((l) => `- ${l}`), ...(omitted ? [omitted] : []), '', '-- ', t.footer, ''].join('\n');
  const html = page(
    lang,
    subject,
    [
      `<p>${esc(intro)}</p>`,
      `<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`,
      omitted ? `<p>${esc(omitted)}</p>` : '',
      `<p style="color:#777;font-size:0.9em">${esc(t.footer)}</p>`,
    ].join('\n'),
  );
  return { subject, text, html };
}

function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html>\n<html lang="${lang}"><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body style="font-family:sans-serif;line-height:1.4">\n${body}\n</body></html>\n`;
}

/** Device names, comments and messages come from configuration and people: never trusted as markup. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
