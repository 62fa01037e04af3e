/**
 * Sobriety alerts that explain themselves: every alert carries its rule (id, version, source), the subject, the
 * window, the thresholds, the measured values that triggered it, a suggested action and a sentence in French and
 * English, so an agent can check it by hand. Rules produce Findings; the lifecycle (lifecycle.ts) turns findings
 * into alerts: open → acknowledged → resolved, one open alert per (rule, subject).
 */

export type Severity = 'info' | 'warning' | 'major' | 'critical';
export const SEVERITY_ORDER: Record<Severity, number> = { info: 0, warning: 1, major: 2, critical: 3 };

export interface Text {
  fr: string;
  en: string;
}

export interface RuleInfo {
  id: string;
  version: number;
  category: 'water' | 'energy' | 'air' | 'datacenter' | 'fleet';
  title: Text;
  /** Where the rule and its default thresholds come from (regulation, vendor manual, standard). */
  source: { text: string; reference: string };
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

export type AlertState = 'open' | 'acknowledged' | 'resolved';

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

const frenchTime = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });
const englishTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', dateStyle: 'medium', timeStyle: 'short' });

export const formatTime = {
  fr: (t: Date) => frenchTime.format(t),
  en: (t: Date) => englishTime.format(t),
};

/** "le capteur fuite-chaufferie (mairie, chaufferie)" / "sensor fuite-chaufferie (mairie, chaufferie)" */
export function describeSubject(s: Subject): Text {
  const where = [s.site, s.building && s.building !== s.site ? s.building : undefined, s.zone].filter(Boolean).join(', ');
  const name = s.device ?? s.devEui ?? s.site;
  return { fr: `${name}${where ? ` (${where})` : ''}`, en: `${name}${where ? ` (${where})` : ''}` };
}

const numberFr = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
const numberEn = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1 });
export const formatNumber = { fr: (n: number) => numberFr.format(n), en: (n: number) => numberEn.format(n) };

const twoFr = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });
const twoEn = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });
/** Numbers shown with two decimals at most (PUE, kWh per degree-day, battery volts), as they are measured. */
export const formatNumber2 = { fr: (n: number) => twoFr.format(n), en: (n: number) => twoEn.format(n) };
