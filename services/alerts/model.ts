/**
 * Sobriety alerts that explain themselves: every alert carries its rule (id, version, source), the subject, the
 * window, the thresholds, the measured values that triggered it, a suggested action and a sentence in French and
 * English, so an agent can check it by hand. Rules produce Findings; the lifecycle (lifecycle.ts) turns findings
 * into alerts: open → acknowledged → resolved, one open alert per (rule, subject).
 */
import type { AlertCategory, AlertSeverity, AlertStateValue } from '../storage/schema.ts';

export type Severity = AlertSeverity;
export const SEVERITY_ORDER: Record<Severity, number> = { info: 0, warning: 1, major: 2, critical: 3 };

export interface Text {
  fr: string;
  en: string;
}

export interface RuleInfo {
  id: string;
  version: number;
  category: AlertCategory;
  title: Text;
  /**
   * Where the rule and its default thresholds come from: what the published text says, in French and English, and
   * the reference (title and article of the regulation, manual or standard, as published).
   */
  source: { text: Text; reference: string };
  action: Text;
  /** How long the condition must stay clear before the alert resolves itself (hysteresis). */
  clearAfterMs: number;
}

/** What an alert is about: a device, or a site/building for rules over several devices. */
export interface Subject {
  tenant: string;
  site: string;
  building?: string;
  zone?: string;
  devEui?: string;
  device?: string;
}

export function subjectKey(s: Subject): string {
  return [s.tenant, s.site, s.building ?? '', s.zone ?? '', s.devEui ?? ''].join('/');
}

/** One evaluation of one rule for one subject. */
export interface Finding {
  rule: RuleInfo;
  subject: Subject;
  at: Date;
  firing: boolean;
  /**
   * Not firing, but not clear either: the condition holds but not yet for long enough, or sits inside the rule's
   * hysteresis band (below the level that opens an alert, above the one that clears it). Does not open an alert,
   * does keep an open one from clearing.
   */
  pending?: boolean;
  severity: Severity;
  window: { from: Date; to: Date };
  thresholds: Record<string, number | string>;
  measured: Record<string, number | string>;
  message: Text;
}

export type AlertState = AlertStateValue;

export interface Alert {
  id: string;
  ruleId: string;
  ruleVersion: number;
  category: RuleInfo['category'];
  title: Text;
  severity: Severity;
  subject: Subject;
  state: AlertState;
  startedAt: Date;
  /** When the condition was last seen firing. */
  lastFiringAt: Date;
  endedAt?: Date;
  window: Finding['window'];
  thresholds: Finding['thresholds'];
  measured: Finding['measured'];
  message: Text;
  source: RuleInfo['source'];
  action: Text;
  acknowledged?: { by: string; at: Date; comment: string };
  resolved?: { by: string; at: Date; comment: string };
}

// Formatters made at first use, not at load: ICU's locale and time-zone data (about 9 MB of the node binary's pages)
// then stay out of memory in a service that formats nothing.
let frenchTime: Intl.DateTimeFormat | undefined;
let englishTime: Intl.DateTimeFormat | undefined;

export const formatTime = {
  fr: (t: Date) => (frenchTime ??= new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' })).format(t),
  en: (t: Date) => (englishTime ??= new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', dateStyle: 'medium', timeStyle: 'short' })).format(t),
};

/** A site's display name (the configuration's `sites[].name`), or its identifier when it has none. */
export type SiteNames = (tenant: string, site: string) => string;

/** An identifier shown in words: `salle-serveur` → "salle serveur" (zones and buildings have no display name). */
export const inWords = (slug: string) => slug.replace(/[-_]+/g, ' ').trim();

/**
 * Where a subject is, as people say it: the site's display name, then the building when it is not the site
 * itself, then the zone, in words ("Mairie, salle serveur").
 */
export function describeWhere(s: Subject, siteName?: SiteNames): string {
  const site = siteName?.(s.tenant, s.site) ?? s.site;
  return [site, s.building && s.building !== s.site ? inWords(s.building) : undefined, s.zone ? inWords(s.zone) : undefined].filter(Boolean).join(', ');
}

/**
 * A device as "Détecteur de fuite – chaufferie (Mairie, chaufferie)": its name as configured, then where it is; a place without a
 * device as "Mairie, salle serveur". Without `siteName`, the site's identifier stands for its name.
 */
export function describeSubject(s: Subject, siteName?: SiteNames): Text {
  const where = describeWhere(s, siteName);
  const name = s.device ?? s.devEui;
  const text = name ? `${name}${where ? ` (${where})` : ''}` : where;
  return { fr: text, en: text };
}

/** A sentence that opens with a name: its first letter upper-case ("compteur-eau" → "Compteur-eau"). */
export const upperFirst = (s: string) => (s ? `${s[0]!.toUpperCase()}${s.slice(1)}` : s);

/** "1 pièce", "2 pièces": French puts 0 and 1 in the singular, English only 1. */
export const plural = {
  fr: (n: number, one: string, many: string) => `${formatNumber.fr(n)} ${Math.abs(n) < 2 ? one : many}`,
  en: (n: number, one: string, many: string) => `${formatNumber.en(n)} ${n === 1 ? one : many}`,
};

const numbers = new Map<string, Intl.NumberFormat>();
const numberFormat = (locale: string, digits: number) => {
  let f = numbers.get(`${locale}/${digits}`);
  if (!f) numbers.set(`${locale}/${digits}`, (f = new Intl.NumberFormat(locale, { maximumFractionDigits: digits })));
  return f;
};
export const formatNumber = { fr: (n: number) => numberFormat('fr-FR', 1).format(n), en: (n: number) => numberFormat('en-GB', 1).format(n) };

/** Numbers shown with two decimals at most (PUE, kWh per degree-day, battery volts), as they are measured. */
export const formatNumber2 = { fr: (n: number) => numberFormat('fr-FR', 2).format(n), en: (n: number) => numberFormat('en-GB', 2).format(n) };
