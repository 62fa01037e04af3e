/**
 * Water rules over stored series (vendor meter alarms, UKWIR and IWA water-loss methods, cited by each rule):
 * - W1 continuous flow: no hour without water in the last 24 complete hours, the smallest hourly volume ≥ 10 L;
 * - W2 minimum night flow: the 7-night 20th percentile of the smallest rolling hour between 02:00 and 04:00
 *   site-local time, against the same statistic over the 28 nights before (UKWIR 99/WM/08/21);
 * - W6 stopped meter: still reporting, but its index has not moved for 21 days after a history of consumption;
 * - W7S silent leak sensor: no state from a leak sensor for more than twice its heartbeat;
 * - W8 district balance: water entering a district (role district-inflow) minus what the site's other meters
 *   counted, day by day, against its own 28-day baseline.
 */
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { seriesRows } from '../../storage/influx.ts';
import { during, select, type Condition } from '../../storage/influxql.ts';
import { localDayBounds, localTime, localWindow } from '../../time/calendar.ts';
import { describeSubject, formatNumber, formatTime, plural, type Finding, type RuleInfo, type Subject } from '../model.ts';
import { defineRule, int, nightWindow, num, paramsFor, type EvidenceDeclaration, type WindowedRule } from './define.ts';
import { consumption, DAY, deviceSubject, formatDate, HOUR, indexAt, mean, median, memoByPeriod, MIN, percentile, points, round1, stdDev, type Point } from './common.ts';

const WATER = QUANTITIES['metering.water.total'];
const LEAK = QUANTITIES['water.leak'];
const DEVICE_TAGS = ['tenant', 'site', 'building', 'zone', 'dev_eui', 'device'];
const WHOLE_METER: Condition = { tag: 'channel', equals: '' };

/** The local date before `date` ('YYYY-MM-DD'). */
function previousDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------
// W1 continuous flow

export const W1_DEFAULTS = { minLitresPerHour: 10, windowHours: 24, minHoursWithData: 20 };

/**
 * W1: water flowing every hour for 24 h — a running toilet, a leaking valve after the meter. Not for network
 * meters (role district-inflow), through which water always flows.
 */
export function continuousFlowRule(opts: typeof W1_DEFAULTS = W1_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'W1',
    version: 1,
    category: 'water',
    title: { fr: 'Débit continu : fuite probable', en: 'Continuous flow: probable leak' },
    source: { text: { fr: "Code d'information LEAK de Kamstrup : alarme quand le compteur n'a pas connu une heure entière sans débit au cours des dernières 24 h, levée après une heure à zéro (10 L/h pour une entrée à impulsions de 10 L) ; Sensus iPERL : débit continu pendant 24 h", en: "Kamstrup LEAK info code: alarm when the meter has not seen one continuous hour without flow in the last 24 h, cleared after an hour at zero (10 L/h for a 10 L pulse input); Sensus iPERL: continuous flow over 24 h" }, reference: "Kamstrup, MULTICAL® 21 Technical Description (info code LEAK) and MULTICAL® 602 Technical Description §6.14.3; Sensus, iPERL User Manual §1.3.4" },
    action: { fr: 'Chercher la fuite après compteur (chasses d’eau, robinets, vannes) ; relever l’index la nuit pour confirmer.', en: 'Look for the leak after the meter (toilets, taps, valves); read the index at night to confirm.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      // Complete hours only: the hour under way holds part of an hour's water and would read as the smallest
      // hour, so the verdict would depend on the minute the rule runs at.
      const to = Math.floor(now.getTime() / HOUR) * HOUR;
      const from = to - (opts.windowHours + 1) * HOUR;
      const series = await query(
        select({
          select: [{ fn: 'non_negative_difference', of: { fn: 'last', field: WATER.field }, as: 'litres' }],
          from: WATER.measurement,
          where: [...during(from, to), WHOLE_METER, { tag: 'role', notEquals: ROLES.districtInflow }],
          interval: '1h',
          groupBy: DEVICE_TAGS,
          fill: 'none',
        }),
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const p = paramsFor(rulesFor, 'W1', opts, tags.tenant ?? '', tags.site ?? '');
        // InfluxDB 1.x also differences the hour before the range: only the hours of the window count.
        const hourly = rows.filter((r) => Number(r.time) >= to - opts.windowHours * HOUR).map((r) => r.litres).filter((v): v is number => typeof v === 'number');
        if (!p || hourly.length < p.minHoursWithData) continue;
        const min = Math.min(...hourly);
        const zeroHours = hourly.filter((v) => v === 0).length;
        const firing = zeroHours === 0 && min >= p.minLitresPerHour;
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        // The hours actually measured: a meter silent for 4 of the 24 hours has not shown 24 h of flow.
        const span =
          hourly.length >= opts.windowHours
            ? { fr: `depuis ${opts.windowHours} h`, en: `for ${opts.windowHours} h` }
            : { fr: `sur ${hourly.length} h mesurées des ${opts.windowHours} dernières heures`, en: `over ${hourly.length} measured hours of the last ${opts.windowHours}` };
        findings.push({
          rule: info,
          subject,
          at: now,
          firing,
          // Hysteresis, as the meters do it: the alert opens at the threshold but clears only after an hour at
          // zero, so a leak whose smallest hour dips under the threshold (meter resolution) does not flap.
          pending: !firing && zeroHours === 0,
          severity: 'major',
          window: { from: new Date(to - opts.windowHours * HOUR), to: new Date(to) },
          thresholds: { min_l_per_h: p.minLitresPerHour, window_h: opts.windowHours },
          measured: { hours: hourly.length, zero_hours: zeroHours, min_l_per_h: min, mean_l_per_h: Math.round(hourly.reduce((a, b) => a + b, 0) / hourly.length) },
          message: {
            fr: `Débit jamais nul ${span.fr} : ${who.fr}, minimum horaire ${formatNumber.fr(min)} L/h ; fuite probable après compteur.`,
            en: `Flow never zero ${span.en}: ${who.en}, smallest hourly volume ${formatNumber.en(min)} L/h; probable leak after the meter.`,
          },
        });
      }
      return findings;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// W2 minimum night flow

/**
 * The smallest volume over a rolling hour (starts every 15 min) inside the local window of `date`, in litres, or
 * undefined when the readings do not cover the window. The window follows the wall clock: 1 h on the spring DST
 * night (02:00-03:00 does not exist), 3 h on the autumn one.
 */
export function nightMinimum(pts: readonly Point[], date: string, window: string, timeZone: string): number | undefined {
  const w = localWindow(date, window.slice(0, 5), window.slice(6), timeZone);
  let min: number | undefined;
  for (let s = w.start.getTime(); s + HOUR <= w.end.getTime(); s += 15 * MIN) {
    const a = indexAt(pts, s, 3 * HOUR);
    const b = indexAt(pts, s + HOUR, 3 * HOUR);
    if (a === undefined || b === undefined) continue;
    const v = b - a;
    if (min === undefined || v < min) min = v;
  }
  return min;
}

export const W2_DEFAULTS = { factor: 1.5, minLitresPerHour: 10, window: '02:00-04:00', recentNights: 7, baselineNights: 28, percentile: 20, minRecentNights: 5, minBaselineNights: 14 };

export function nightFlowRule(opts: typeof W2_DEFAULTS = W2_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'W2',
    version: 1,
    category: 'water',
    title: { fr: 'Débit minimum de nuit en hausse', en: 'Minimum night flow rising' },
    source: { text: { fr: "20e centile glissant sur 7 nuits du volume de l'heure la plus faible de chaque nuit, sur des données au pas de 15 min (UKWIR) ; débit minimum de nuit mesuré entre 2 h et 4 h (IWA). Le facteur 1,5 sur la référence et le plancher de 10 L/h sont des réglages par défaut de Veilleur", en: "Rolling 7-night 20th percentile of the smallest hour of each night, on 15-min data (UKWIR); minimum night flow window 02:00-04:00 (IWA). The 1.5 × baseline and 10 L/h floor are Veilleur defaults" }, reference: "UKWIR, report 99/WM/08/21 (minimum night flow); J. Thornton, R. Sturm, G. Kunkel, Water Loss Control, 2nd ed., McGraw-Hill, 2008" },
    action: {
      fr: 'Relever l’index la nuit pour confirmer, puis chercher la fuite (réseau intérieur, chasses d’eau, robinets, arrosage).',
      en: 'Read the index at night to confirm, then look for the leak (indoor pipes, toilets, taps, irrigation).',
    },
    clearAfterMs: 0,
  };
  const nights = opts.recentNights + opts.baselineNights;
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      // Whole days either side of the nights, whatever the site's time zone.
      const from = to - (nights + 2) * DAY;
      const series = await query(
        select({ select: [{ field: WATER.field, as: 'v' }], from: WATER.measurement, where: [...during(from, to), WHOLE_METER], groupBy: DEVICE_TAGS }),
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const p = paramsFor(rulesFor, 'W2', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p) continue;
        const tz = calendarFor(tags.tenant ?? '', tags.site ?? '').timeZone;
        const pts = points(rows, 'v');
        // The last night whose window has ended, then the ones before it.
        let date = localTime(new Date(to), tz).date;
        while (localWindow(date, p.window.slice(0, 5), p.window.slice(6), tz).end.getTime() > to) date = previousDate(date);
        const recent: number[] = [];
        const baseline: number[] = [];
        const lastNight = date;
        let lastMin: number | undefined;
        let firstWindowStart = to;
        for (let i = 0; i < nights; i++, date = previousDate(date)) {
          const m = nightMinimum(pts, date, p.window, tz);
          if (i === 0) lastMin = m;
          if (i === opts.recentNights - 1) firstWindowStart = localWindow(date, p.window.slice(0, 5), p.window.slice(6), tz).start.getTime();
          if (m === undefined) continue;
          (i < opts.recentNights ? recent : baseline).push(m);
        }
        if (recent.length < opts.minRecentNights || baseline.length < opts.minBaselineNights) continue;
        const recentP = round1(percentile(recent, opts.percentile));
        const baseP = round1(percentile(baseline, opts.percentile));
        const limit = round1(Math.max(p.factor * baseP, p.minLitresPerHour));
        const firing = recentP > p.factor * baseP && recentP > p.minLitresPerHour;
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const win = p.window.replace('-', '–');
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing,
          severity: 'warning',
          window: { from: new Date(firstWindowStart), to: new Date(to) },
          thresholds: { factor: p.factor, min_l_per_h: p.minLitresPerHour, limit_l_per_h: limit, window: p.window, percentile: opts.percentile, recent_nights: opts.recentNights, baseline_nights: opts.baselineNights },
          measured: {
            recent_p20_l_per_h: recentP,
            baseline_p20_l_per_h: baseP,
            nights_recent: recent.length,
            nights_baseline: baseline.length,
            last_night: lastNight,
            ...(lastMin !== undefined ? { last_night_min_l_per_h: round1(lastMin) } : {}),
          },
          message: {
            fr: `Débit minimum de nuit en hausse : ${who.fr}, ${formatNumber.fr(recentP)} L/h (P${opts.percentile} des minima horaires ${win} des ${opts.recentNights} dernières nuits) contre ${formatNumber.fr(baseP)} L/h les ${opts.baselineNights} nuits précédentes ; seuil ${formatNumber.fr(limit)} L/h (${formatNumber.fr(p.factor)} × la référence, au moins ${formatNumber.fr(p.minLitresPerHour)} L/h) : fuite probable.`,
            en: `Minimum night flow rising: ${who.en}, ${formatNumber.en(recentP)} L/h (P${opts.percentile} of the smallest hourly volumes ${win} over the last ${opts.recentNights} nights) against ${formatNumber.en(baseP)} L/h over the ${opts.baselineNights} nights before; limit ${formatNumber.en(limit)} L/h (${formatNumber.en(p.factor)} × baseline, at least ${formatNumber.en(p.minLitresPerHour)} L/h): probable leak.`,
          },
        });
      }
      return findings;
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// W6 stopped meter

export const W6_DEFAULTS = { days: 21, minHistoryLitres: 100, historyDays: 60 };

export function stoppedMeterRule(opts: typeof W6_DEFAULTS = W6_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'W6',
    version: 1,
    category: 'water',
    title: { fr: 'Compteur arrêté', en: 'Stopped meter' },
    source: { text: { fr: "Diehl IZAR RC : alarme « compteur bloqué » après une période sans impulsion réglable, « généralement plusieurs semaines » ; la durée de 21 jours est un réglage par défaut de Veilleur", en: "Diehl IZAR RC: \"meter blocked\" alarm after no pulse for a programmable period, \"generally several weeks\"; 21 days is a Veilleur default" }, reference: "Diehl Metering, IZAR RC 868 i G4 User Manual (blocked-meter alarm)" },
    action: { fr: 'Vérifier le compteur sur place (bloqué, vanne fermée, câble d’impulsions débranché) ; le remplacer s’il est bloqué.', en: 'Check the meter on site (blocked, valve closed, pulse cable unplugged); replace it if blocked.' },
    clearAfterMs: 0,
  };
  // Longest per-site quiet period (settings.ts allows up to 60 days) plus the history before it, in UTC days.
  const lookbackDays = 60 + opts.historyDays + 1;
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, rulesFor, siteName }, now) => {
      // Complete (UTC) days only: the day under way would count as a day without water until its first reading.
      const to = Math.floor(now / DAY) * DAY;
      const from = to - lookbackDays * DAY;
      const base = { from: WATER.measurement, where: [...during(from, to), WHOLE_METER], groupBy: DEVICE_TAGS };
      const [daily, last] = await Promise.all([
        query(select({ ...base, select: [{ fn: 'non_negative_difference', of: { fn: 'last', field: WATER.field }, as: 'litres' }], interval: '1d', fill: 'none' })),
        query(select({ ...base, select: [{ fn: 'last', field: WATER.field, as: 'idx' }] })),
      ]);
      const lastByDevice = new Map(seriesRows(last).map(({ tags, rows }) => [tags.dev_eui ?? '', rows[0]]));
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(daily)) {
        const p = paramsFor(rulesFor, 'W6', opts, tags.tenant ?? '', tags.site ?? '');
        const latest = lastByDevice.get(tags.dev_eui ?? '');
        if (!p || !latest || !tags.dev_eui) continue;
        const lastSeen = Number(latest.time);
        const quietStart = to - p.days * DAY;
        const historyStart = quietStart - opts.historyDays * DAY;
        const days = points(rows, 'litres');
        const quiet = days.filter((d) => d.t >= quietStart);
        const quietLitres = quiet.reduce((a, d) => a + d.v, 0);
        const history = days.filter((d) => d.t >= historyStart && d.t < quietStart);
        const historyLitres = history.reduce((a, d) => a + d.v, 0);
        // Still reporting (a silent meter is S1's business), on most days of the period.
        if (to - lastSeen > 2 * DAY || quiet.length < p.days / 2) continue;
        const lastIncrease = [...days].reverse().find((d) => d.v > 0);
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const index = Math.round(Number(latest.idx));
        const lastDay = lastIncrease ? new Date(lastIncrease.t).toISOString().slice(0, 10) : undefined;
        const since = lastDay ? formatDate(lastDay) : { fr: 'aucune', en: 'none' };
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing: quietLitres === 0 && historyLitres >= p.minHistoryLitres && historyLitres > 0,
          severity: 'warning',
          window: { from: new Date(quietStart), to: new Date(to) },
          thresholds: { days: p.days, min_history_l: p.minHistoryLitres, history_days: opts.historyDays },
          measured: {
            index_l: index,
            quiet_l: Math.round(quietLitres),
            history_l: Math.round(historyLitres),
            days_with_readings: quiet.length,
            last_seen: new Date(lastSeen).toISOString(),
            ...(lastDay ? { last_increase_day: lastDay } : {}),
          },
          message: {
            fr: `Index figé à ${formatNumber.fr(index)} L depuis ${p.days} jours : ${who.fr}, qui émet toujours (${quiet.length} jours relevés ; dernière hausse le ${since.fr}), après ${formatNumber.fr(Math.round(historyLitres))} L consommés les ${opts.historyDays} jours précédents : compteur probablement bloqué.`,
            en: `Index stuck at ${formatNumber.en(index)} L for ${p.days} days: ${who.en}, which still reports (${quiet.length} days with readings; last increase on ${since.en}), after ${formatNumber.en(Math.round(historyLitres))} L used over the ${opts.historyDays} days before: meter probably blocked.`,
          },
        });
      }
      return findings;
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// W7S silent leak sensor

export const W7S_DEFAULTS = { factor: 2, heartbeatMinutes: 0, lookbackDays: 30 };

export function leakSensorSilentRule(opts: typeof W7S_DEFAULTS = W7S_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'W7S',
    version: 1,
    category: 'water',
    title: { fr: 'Détecteur de fuite muet', en: 'Leak sensor silent' },
    source: { text: { fr: "Un détecteur de fuite transmet son état périodiquement (toutes les heures pour le Netvox R718WB, toutes les 2 h pour le Dragino LWL03A, une fois par jour pour le LWL04) ; muet depuis plus de 2 fois son intervalle, il ne signalerait pas une fuite", en: "A leak sensor reports its state periodically (hourly for the Netvox R718WB, every 2 h for the Dragino LWL03A, daily for the LWL04); one silent for more than 2 × its interval would not report a leak" }, reference: "Netvox, R718WB User Manual; Dragino, LWL03A and LWL04 User Manuals" },
    action: { fr: 'Vérifier la pile et la couverture radio du détecteur : tant qu’il se tait, une fuite ne serait pas signalée.', en: 'Check the sensor’s battery and radio coverage: while it is silent, a leak would go unreported.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      const to = now.getTime();
      const series = await query(
        select({ select: [{ field: LEAK.field, as: 'leak' }], from: LEAK.measurement, where: [...during(to - opts.lookbackDays * DAY, to), { tag: 'role', equals: ROLES.leakSensor }], groupBy: DEVICE_TAGS }),
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const p = paramsFor(rulesFor, 'W7S', opts, tags.tenant ?? '', tags.site ?? '');
        const times = rows.map((r) => Number(r.time)).filter(Number.isFinite).sort((a, b) => a - b);
        if (!p || times.length === 0) continue;
        // The heartbeat: configured, else the sensor's own median interval (state-change uplinks come in between).
        const intervals = times.slice(-200).flatMap((t, i, a) => (i > 0 ? [t - a[i - 1]!] : []));
        const learnt = p.heartbeatMinutes === 0;
        if (learnt && intervals.length < 2) continue;
        const heartbeat = learnt ? median(intervals) : p.heartbeatMinutes * MIN;
        const lastSeen = times[times.length - 1]!;
        const silence = to - lastSeen;
        const limit = p.factor * heartbeat;
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const hours = round1(silence / HOUR);
        const hbMin = Math.round(heartbeat / MIN);
        findings.push({
          rule: info,
          subject,
          at: now,
          firing: silence > limit,
          severity: 'warning',
          window: { from: new Date(lastSeen), to: now },
          thresholds: { factor: p.factor, heartbeat_min: hbMin, heartbeat: learnt ? 'learnt' : 'configured', limit_h: round1(limit / HOUR) },
          measured: { last_seen: new Date(lastSeen).toISOString(), silent_h: hours },
          message: {
            fr: `Détecteur de fuite muet depuis ${formatNumber.fr(hours)} h : ${who.fr}, dernier état reçu le ${formatTime.fr(new Date(lastSeen))}, plus de ${formatNumber.fr(p.factor)} × son intervalle de ${hbMin} min : une fuite ne serait pas signalée.`,
            en: `Leak sensor silent for ${formatNumber.en(hours)} h: ${who.en}, last state received ${formatTime.en(new Date(lastSeen))}, over ${formatNumber.en(p.factor)} × its ${hbMin} min interval: a leak would go unreported.`,
          },
        });
      }
      return findings;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// W8 district balance

export const W8_DEFAULTS = { sigmas: 3, days: 3, minExcessLitresPerDay: 500, connections: 0, baselineDays: 28, minBaselineDays: 14 };

export function districtBalanceRule(opts: typeof W8_DEFAULTS = W8_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'W8',
    version: 1,
    category: 'water',
    title: { fr: 'Pertes du secteur en hausse', en: 'District losses rising' },
    source: { text: { fr: "Bilan d'eau de l'IWA : pertes = volume mis en distribution − consommation autorisée, ici le compteur d'entrée du secteur moins les autres compteurs du site, jour par jour ; alerte au-dessus de la moyenne des 28 jours précédents + 3 écarts-types pendant 3 jours (réglages par défaut de Veilleur)", en: "IWA water balance: losses = system input volume − authorised consumption, here the district inflow meter minus the site's other meters, day by day; above the 28-day mean + 3σ for 3 days (Veilleur defaults)" }, reference: "IWA standard water balance (H. Alegre et al., Performance Indicators for Water Supply Services, 3rd ed., IWA Publishing, 2016)" },
    action: {
      fr: 'Comparer avec le débit minimum de nuit du secteur, vérifier les compteurs clients, puis lancer une recherche de fuite sur le réseau (écoute, corrélation).',
      en: 'Compare with the district’s minimum night flow, check the customer meters, then survey the network for leaks (listening, correlation).',
    },
    clearAfterMs: 0,
  };
  // Whole local days either side of the period, whatever the time zone.
  const spanDays = opts.baselineDays + 7 + 2;
  return {
    info,
    evaluate: memoByPeriod(HOUR, async ({ query, calendarFor, rulesFor, siteName }, to) => {
      const from = to - spanDays * DAY;
      const districts = await query(
        select({ select: [{ fn: 'last', field: WATER.field }], from: WATER.measurement, where: [...during(from, to), WHOLE_METER, { tag: 'role', equals: ROLES.districtInflow }], groupBy: ['tenant', 'site'] }),
      );
      const findings: Finding[] = [];
      for (const d of districts) {
        const tenant = d.tags?.tenant ?? '';
        const site = d.tags?.site ?? '';
        const p = paramsFor(rulesFor, 'W8', opts, tenant, site);
        if (!p) continue;
        const series = await query(
          select({
            select: [{ field: WATER.field, as: 'v' }],
            from: WATER.measurement,
            where: [...during(from, to), WHOLE_METER, { tag: 'tenant', equals: tenant }, { tag: 'site', equals: site }],
            groupBy: ['dev_eui', 'device', 'role'],
          }),
        );
        const meters = seriesRows(series).map(({ tags, rows }) => ({ inflow: tags.role === ROLES.districtInflow, pts: points(rows, 'v') }));
        const inflows = meters.filter((m) => m.inflow);
        const customers = meters.filter((m) => !m.inflow);
        if (inflows.length === 0) continue;
        const tz = calendarFor(tenant, site).timeZone;
        // Complete local days, newest first: losses = inflow − customers, only when every meter read at both ends.
        let date = localTime(new Date(to), tz).date;
        while (localDayBounds(date, tz).end.getTime() > to) date = previousDate(date);
        const daysOut: { date: string; start: number; loss?: number; inflow?: number; customers?: number }[] = [];
        for (let i = 0; i < p.days + opts.baselineDays; i++, date = previousDate(date)) {
          const b = localDayBounds(date, tz);
          const start = b.start.getTime();
          const end = b.end.getTime();
          const inflow = inflows.map((m) => consumption(m.pts, start, end, 3 * HOUR));
          const used = customers.map((m) => consumption(m.pts, start, end, 3 * HOUR));
          if ([...inflow, ...used].some((v) => v === undefined)) {
            daysOut.push({ date, start });
            continue;
          }
          const inL = inflow.reduce<number>((a, v) => a + v!, 0);
          const usedL = used.reduce<number>((a, v) => a + v!, 0);
          daysOut.push({ date, start, loss: inL - usedL, inflow: inL, customers: usedL });
        }
        const recent = daysOut.slice(0, p.days);
        const base = daysOut.slice(p.days).flatMap((x) => (x.loss !== undefined ? [x.loss] : []));
        if (base.length < opts.minBaselineDays || recent.some((x) => x.loss === undefined)) continue;
        const mu = mean(base);
        const sigma = stdDev(base);
        const limit = mu + Math.max(p.sigmas * sigma, p.minExcessLitresPerDay);
        const losses = recent.map((x) => Math.round(x.loss!));
        const firing = recent.every((x) => x.loss! > limit);
        const newest = recent[0]!;
        const subject: Subject = { tenant, site };
        const district = describeSubject(subject, siteName);
        const list = (f: (n: number) => string) => [...losses].reverse().map(f).join(' ; ');
        const lossPerConnection = p.connections > 0 ? round1(losses[0]! / p.connections) : undefined;
        const oldest = recent[recent.length - 1]!;
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing,
          severity: 'warning',
          window: { from: new Date(oldest.start), to: new Date(to) },
          thresholds: { sigmas: p.sigmas, days: p.days, min_excess_l_per_day: p.minExcessLitresPerDay, limit_l_per_day: Math.round(limit), baseline_days: opts.baselineDays },
          measured: {
            losses_l_per_day: [...losses].reverse().join(', '),
            days: recent.map((x) => x.date).reverse().join(', '),
            baseline_mean_l_per_day: Math.round(mu),
            baseline_sd_l_per_day: Math.round(sigma),
            baseline_days_used: base.length,
            inflow_l_last_day: Math.round(newest.inflow!),
            customers_l_last_day: Math.round(newest.customers!),
            customer_meters: customers.length,
            ...(lossPerConnection !== undefined ? { loss_l_per_connection_last_day: lossPerConnection } : {}),
          },
          message: {
            fr: `Pertes du secteur ${district.fr} au-dessus de la normale ${p.days} jours de suite : ${list((n) => formatNumber.fr(n))} L/j (volume entrant moins ${plural.fr(customers.length, 'compteur', 'compteurs')} du site ; hier ${formatNumber.fr(Math.round(newest.inflow!))} L entrés, ${formatNumber.fr(Math.round(newest.customers!))} L comptés), pour une référence de ${formatNumber.fr(Math.round(mu))} L/j ± ${formatNumber.fr(Math.round(sigma))} sur ${base.length} jours ; seuil ${formatNumber.fr(Math.round(limit))} L/j : fuite probable sur le réseau.`,
            en: `Losses of district ${district.en} above normal ${p.days} days in a row: ${list((n) => formatNumber.en(n))} L/day (inflow minus ${plural.en(customers.length, 'meter', 'meters')} of the site; last day ${formatNumber.en(Math.round(newest.inflow!))} L in, ${formatNumber.en(Math.round(newest.customers!))} L metered), against a baseline of ${formatNumber.en(Math.round(mu))} L/day ± ${formatNumber.en(Math.round(sigma))} over ${base.length} days; limit ${formatNumber.en(Math.round(limit))} L/day: probable leak on the network.`,
          },
        });
      }
      return findings;
    }),
  };
}

const fr = formatNumber.fr;
const en = formatNumber.en;
const WATER_METERS = [ROLES.waterMain, ROLES.districtInflow];
const WATER_HOURLY: EvidenceDeclaration = { quantity: 'metering.water.total', aggregation: 'hourly', roles: WATER_METERS };

/** The water rules over stored series, in the order they run. */
export const WATER_RULES = [
  defineRule({
    id: 'W1',
    kind: 'windowed',
    defaults: W1_DEFAULTS,
    siteParameters: { minLitresPerHour: num(0.1, 100_000, 'minLitresPerHour (L/h)') },
    description: (d) => ({
      fr: `Débit continu : aucune heure sans eau sur les ${d.windowHours} dernières heures complètes et le plus petit volume horaire ≥ ${fr(d.minLitresPerHour)} L (hors compteurs de secteur). L’alerte se lève quand une heure complète repasse à zéro, pas quand le débit passe seulement sous ${fr(d.minLitresPerHour)} L/h.`,
      en: `Continuous flow: no hour without water over the last ${d.windowHours} complete hours and the smallest hourly volume ≥ ${en(d.minLitresPerHour)} L (district meters excluded). Clears once a complete hour is back at zero, not when the flow merely drops under ${en(d.minLitresPerHour)} L/h.`,
    }),
    reads: [ROLES.waterMain],
    evidence: { ...WATER_HOURLY, threshold: 'min_l_per_h' },
    create: continuousFlowRule,
  }),
  defineRule({
    id: 'W2',
    kind: 'windowed',
    defaults: W2_DEFAULTS,
    siteParameters: { factor: num(1, 10, 'factor (× baseline)'), minLitresPerHour: num(0, 100_000, 'minLitresPerHour (L/h)'), window: nightWindow },
    description: (d) => {
      const [from, to] = d.window.split('-');
      return {
        fr: `Débit minimum de nuit : P${d.percentile} sur ${d.recentNights} nuits du plus petit volume sur une heure glissante entre ${from} et ${to} (heure locale, changements d’heure compris), au-dessus de ${fr(d.factor)} × le même P${d.percentile} des ${d.baselineNights} nuits précédentes et de ${fr(d.minLitresPerHour)} L/h.`,
        en: `Minimum night flow: ${d.recentNights}-night P${d.percentile} of the smallest rolling-hour volume between ${from} and ${to} (local time, DST included), above ${en(d.factor)} × the same P${d.percentile} over the ${d.baselineNights} nights before and above ${en(d.minLitresPerHour)} L/h.`,
      };
    },
    reads: WATER_METERS,
    evidence: { ...WATER_HOURLY, threshold: 'limit_l_per_h' },
    create: nightFlowRule,
  }),
  defineRule({
    id: 'W6',
    kind: 'windowed',
    defaults: W6_DEFAULTS,
    siteParameters: { days: int(7, 60, 'days'), minHistoryLitres: num(0, 1e9, 'minHistoryLitres (L)') },
    description: (d) => ({
      fr: `Compteur arrêté : il émet toujours mais son index n'a pas bougé depuis ${d.days} jours, alors qu'il avait compté au moins ${fr(d.minHistoryLitres)} L les ${d.historyDays} jours précédents.`,
      en: `Stopped meter: it still reports but its index has not moved for ${d.days} days, after at least ${en(d.minHistoryLitres)} L over the ${d.historyDays} days before.`,
    }),
    reads: WATER_METERS,
    evidence: WATER_HOURLY,
    create: stoppedMeterRule,
  }),
  defineRule({
    id: 'W7S',
    kind: 'windowed',
    defaults: W7S_DEFAULTS,
    siteParameters: { factor: num(1.5, 20, 'factor (× heartbeat)'), heartbeatMinutes: int(0, 10_080, 'heartbeatMinutes (0: learnt from the sensor)') },
    description: (d) => ({
      fr: `Détecteur de fuite muet : aucun état reçu depuis plus de ${fr(d.factor)} × son intervalle (appris de ses messages, ou configuré par heartbeatMinutes).`,
      en: `Leak sensor silent: no state received for over ${en(d.factor)} × its interval (learnt from its uplinks, or configured with heartbeatMinutes).`,
    }),
    reads: [ROLES.leakSensor],
    // Silence: the times of the uplinks, no value to draw.
    evidence: null,
    create: leakSensorSilentRule,
  }),
  defineRule({
    id: 'W8',
    kind: 'windowed',
    defaults: W8_DEFAULTS,
    siteParameters: {
      sigmas: num(1, 10, 'sigmas'),
      days: int(1, 7, 'days'),
      minExcessLitresPerDay: num(0, 1e9, 'minExcessLitresPerDay (L/day)'),
      connections: int(0, 10_000_000, 'connections (0: unknown)'),
    },
    description: (d) => ({
      fr: `Bilan de secteur : chaque jour local, volume du compteur de secteur (rôle district-inflow) moins les autres compteurs du site ; alerte quand ces pertes dépassent la moyenne des ${d.baselineDays} jours précédents + ${fr(d.sigmas)} écarts-types (et + ${fr(d.minExcessLitresPerDay)} L/j au moins) ${d.days} jours de suite.`,
      en: `District balance: each local day, the district meter’s volume (role district-inflow) minus the site’s other meters; alerts when these losses exceed the mean of the ${d.baselineDays} days before + ${en(d.sigmas)} standard deviations (and + ${en(d.minExcessLitresPerDay)} L/day at least) ${d.days} days in a row.`,
    }),
    reads: [ROLES.districtInflow, ROLES.waterMain],
    evidence: { quantity: 'metering.water.total', aggregation: 'hourly', roles: [ROLES.districtInflow] },
    create: districtBalanceRule,
  }),
] as const;
