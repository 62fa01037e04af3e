/**
 * Server-room rules (ASHRAE TC 9.9, EU Code of Conduct on Data Centre Energy Efficiency, ISO/IEC 30134-2, cited by each rule):
 * - D2 over-cooling: a server room's mean inlet temperature over 24 h below 22 °C: raise the set point;
 * - D3 humidity: the air at the IT inlet too humid (dew point above 15 °C or RH above 60 %: condensation,
 *   corrosion) or too dry (dew point below −9 °C: electrostatic discharge), held for 30 min. Evaluated every round
 *   over the last readings rather than per uplink, so that one odd reading does not raise it and a backtest can
 *   replay it;
 * - D4 PUE drift: the interim PUE of the last 30 days above 1.10 × the 12-month PUE, or above 2.0, computed by the
 *   datacenter KPI module (same meters, same energy arithmetic as the reports).
 */
import { QUANTITIES } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { buildDatacenterReport, DATACENTER_ROLES, readMeterSeries } from '../../datacenter/kpi.ts';
import { seriesRows } from '../../storage/influx.ts';
import { during, select } from '../../storage/influxql.ts';
import { describeSubject, formatNumber, formatNumber2, type Finding, type RuleInfo, type Subject } from '../model.ts';
import { celsius, defineRule, int, num, paramsFor, type WindowedRule } from './define.ts';
import { DAY, deviceSubject, dewPointC, fixed, HOUR, memoByPeriod, MIN, round1, round2 } from './common.ts';

const AIR_T = QUANTITIES['air.temperature'];
const AIR_RH = QUANTITIES['air.relativeHumidity'];
const ENERGY = QUANTITIES['metering.electricity.activeEnergy'];

// ---------------------------------------------------------------------------------------------------------
// D2 over-cooling

export const D2_DEFAULTS = { belowC: 22, windowHours: 24, minReadings: 12 };

/** D2: a server room kept colder than it needs: every degree of set point is cooling energy. */
export function overCoolingRule(opts: typeof D2_DEFAULTS = D2_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'D2',
    version: 1,
    category: 'datacenter',
    title: { fr: 'Salle serveur trop refroidie', en: 'Server room over-cooled' },
    source: { text: { fr: "Revoir et relever les consignes de température à l'entrée d'air des équipements informatiques ; l'ASHRAE recommande jusqu'à 27 °C à cette entrée. Le seuil de 22 °C est un réglage par défaut de Veilleur", en: "Review and raise the IT intake set points; ASHRAE recommends up to 27 °C at the IT inlet. 22 °C is a Veilleur default" }, reference: "European Commission (JRC), EU Code of Conduct on Data Centre Energy Efficiency, Best Practice Guidelines, 2024 edition; ASHRAE TC 9.9, Thermal Guidelines for Data Processing Environments" },
    action: { fr: 'Relever progressivement la consigne de climatisation (par pas de 1 °C) en surveillant les températures d’entrée.', en: 'Raise the cooling set point gradually (1 °C steps) while watching inlet temperatures.' },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      const to = now.getTime();
      const from = to - opts.windowHours * HOUR;
      const series = await query(
        select({
          select: [
            { fn: 'mean', field: AIR_T.field, as: 'mean_c' },
            { fn: 'count', field: AIR_T.field, as: 'n' },
            { fn: 'min', field: AIR_T.field, as: 'min_c' },
            { fn: 'max', field: AIR_T.field, as: 'max_c' },
          ],
          from: AIR_T.measurement,
          where: [...during(from, to), { tag: 'role', equals: ROLES.itInlet }],
          groupBy: ['tenant', 'site', 'building', 'zone'],
        }),
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const r = rows[0];
        const p = paramsFor(rulesFor, 'D2', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p || !r || typeof r.mean_c !== 'number' || Number(r.n) < opts.minReadings) continue;
        const subject: Subject = { tenant: tags.tenant ?? '', site: tags.site ?? '', ...(tags.building ? { building: tags.building } : {}), ...(tags.zone ? { zone: tags.zone } : {}) };
        const who = describeSubject(subject, siteName);
        const mean = Math.round(r.mean_c * 10) / 10;
        findings.push({
          rule: info,
          subject,
          at: now,
          firing: mean < p.belowC,
          severity: 'warning',
          window: { from: new Date(from), to: now },
          thresholds: { below_c: p.belowC, window_h: opts.windowHours },
          measured: { mean_inlet_c: mean, min_inlet_c: Number(r.min_c), max_inlet_c: Number(r.max_c), readings: Number(r.n) },
          message: {
            fr: `Salle serveur trop refroidie (${who.fr}) : entrée d'air à ${formatNumber.fr(mean)} °C en moyenne sur ${opts.windowHours} h, sous ${formatNumber.fr(p.belowC)} °C : relever la consigne de climatisation.`,
            en: `Server room over-cooled (${who.en}): inlet air at ${formatNumber.en(mean)} °C on average over ${opts.windowHours} h, below ${formatNumber.en(p.belowC)} °C: raise the cooling set point.`,
          },
        });
      }
      return findings;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// D3 humidity and dew point

export const D3_DEFAULTS = { maxDewPointC: 15, maxRhPct: 60, minDewPointC: -9, forMinutes: 30 };

export function humidityRule(opts: typeof D3_DEFAULTS = D3_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'D3',
    version: 1,
    category: 'datacenter',
    title: { fr: 'Humidité de la salle serveur hors plage', en: 'Server-room humidity out of range' },
    source: { text: { fr: "Plage recommandée de 2008 : point de rosée de 15 °C au plus et humidité relative de 60 % au plus ; les éditions suivantes admettent un point de rosée jusqu'à −9 °C. Point de rosée calculé par la formule de Magnus avec les constantes de Sonntag", en: "2008 recommended envelope: dew point at most 15 °C and relative humidity at most 60 %; later editions allow down to −9 °C dew point. Dew point by the Magnus formula with Sonntag's constants" }, reference: "ASHRAE TC 9.9, Thermal Guidelines for Data Processing Environments (2008 recommended envelope); D. Sonntag, Zeitschrift für Meteorologie 40 (1990)" },
    action: {
      fr: 'Trop humide : vérifier la déshumidification de la climatisation et les entrées d’air extérieur. Trop sec : humidifier ou limiter l’air neuf, attention aux décharges électrostatiques.',
      en: 'Too humid: check the cooling’s dehumidification and outside-air intakes. Too dry: humidify or reduce fresh air; beware of electrostatic discharge.',
    },
    clearAfterMs: 0,
  };
  return {
    info,
    async evaluate({ now, query, rulesFor, siteName }) {
      const to = now.getTime();
      const series = await query(
        select({
          select: [{ field: AIR_T.field, as: 'c' }, { field: AIR_RH.field, as: 'rh' }],
          from: AIR_T.measurement,
          where: [...during(to - 3 * HOUR, to), { tag: 'role', equals: ROLES.itInlet }],
          groupBy: ['tenant', 'site', 'building', 'zone', 'dev_eui', 'device'],
        }),
      );
      const findings: Finding[] = [];
      for (const { tags, rows } of seriesRows(series)) {
        const p = paramsFor(rulesFor, 'D3', opts, tags.tenant ?? '', tags.site ?? '');
        if (!p) continue;
        const readings = rows
          .filter((r) => typeof r.c === 'number' && typeof r.rh === 'number')
          .map((r) => {
            const c = r.c as number;
            const rh = r.rh as number;
            const dp = dewPointC(c, rh);
            const kind = dp > p.maxDewPointC || rh > p.maxRhPct ? 'humid' : dp < p.minDewPointC ? 'dry' : undefined;
            return { t: Number(r.time), c, rh, dp, kind };
          })
          .sort((a, b) => a.t - b.t);
        const latest = readings[readings.length - 1];
        // Stale data is the silent-device rule's business.
        if (!latest || to - latest.t > HOUR) continue;
        let i = readings.length - 1;
        while (i > 0 && latest.kind && readings[i - 1]!.kind === latest.kind) i--;
        const since = readings[i]!;
        const minutes = latest.kind ? Math.round((latest.t - since.t) / MIN) : 0;
        const firing = latest.kind !== undefined && minutes >= p.forMinutes;
        const run = latest.kind ? readings.slice(i) : [latest];
        const subject = deviceSubject(tags);
        const who = describeSubject(subject, siteName);
        const dp = round1(latest.dp);
        const n = { fr: formatNumber.fr, en: formatNumber.en };
        const breached = (lang: 'fr' | 'en') =>
          latest.kind === 'dry'
            ? `${lang === 'fr' ? 'point de rosée' : 'dew point'} ${n[lang](dp)} °C < ${n[lang](p.minDewPointC)} °C`
            : [
                ...(latest.dp > p.maxDewPointC ? [`${lang === 'fr' ? 'point de rosée' : 'dew point'} ${n[lang](dp)} °C > ${n[lang](p.maxDewPointC)} °C`] : []),
                ...(latest.rh > p.maxRhPct ? [`${lang === 'fr' ? 'humidité' : 'RH'} ${n[lang](round1(latest.rh))} % > ${n[lang](p.maxRhPct)} %`] : []),
              ].join(lang === 'fr' ? ' et ' : ' and ');
        const what = latest.kind === 'dry' ? { fr: 'Air trop sec', en: 'Air too dry' } : { fr: 'Air trop humide', en: 'Air too humid' };
        const risk = latest.kind === 'dry' ? { fr: 'risque de décharges électrostatiques', en: 'risk of electrostatic discharge' } : { fr: 'risque de condensation et de corrosion', en: 'risk of condensation and corrosion' };
        findings.push({
          rule: info,
          subject,
          at: now,
          firing,
          pending: latest.kind !== undefined && !firing,
          severity: 'warning',
          window: { from: new Date(since.t), to: now },
          thresholds: { max_dew_point_c: p.maxDewPointC, max_rh_pct: p.maxRhPct, min_dew_point_c: p.minDewPointC, for_min: p.forMinutes },
          measured: {
            dew_point_c: dp,
            rh_pct: round1(latest.rh),
            temperature_c: round1(latest.c),
            max_dew_point_c: round1(Math.max(...run.map((r) => r.dp))),
            min_dew_point_c: round1(Math.min(...run.map((r) => r.dp))),
            for_min: minutes,
            condition: latest.kind ?? 'ok',
          },
          message: {
            fr: `${what.fr} à l'entrée des serveurs depuis ${minutes} min, d'après ${who.fr} : ${breached('fr')} (${n.fr(round1(latest.c))} °C, ${n.fr(round1(latest.rh))} % HR) ; ${risk.fr}.`,
            en: `${what.en} at the server inlet for ${minutes} min, according to ${who.en}: ${breached('en')} (${n.en(round1(latest.c))} °C, ${n.en(round1(latest.rh))} % RH); ${risk.en}.`,
          },
        });
      }
      return findings;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// D4 PUE drift

export const D4_DEFAULTS = { factor: 1.1, maxPue: 2, days: 30, referenceDays: 365, minReferenceDays: 330 };

export function pueDriftRule(opts: typeof D4_DEFAULTS = D4_DEFAULTS): WindowedRule {
  const info: RuleInfo = {
    id: 'D4',
    version: 1,
    category: 'datacenter',
    title: { fr: 'PUE en dérive', en: 'PUE drifting' },
    source: { text: { fr: "PUE = énergie totale / énergie informatique sur la même période (PUE intermédiaire sur une période plus courte). Les petites salles serveurs sont entre 1,5 et 2,1, le centre de données moyen vers 1,56 : au-dessus de 2,0, ou de 10 % au-dessus de son propre PUE sur 12 mois, une salle gaspille de la climatisation (réglages par défaut de Veilleur)", en: "PUE = total / IT energy over the same period (interim PUE for shorter periods). Small server rooms run at 1.5–2.1, the average data centre near 1.56: above 2.0, or 10 % above its own 12-month PUE, a room wastes cooling (Veilleur defaults)" }, reference: "ISO/IEC 30134-2 (EN 50600-4-2), Power usage effectiveness; Lawrence Berkeley National Laboratory, small server rooms survey; Uptime Institute, Global Data Center Survey 2024" },
    action: {
      fr: 'Vérifier la climatisation de la salle (consignes, free cooling, filtres, portes ouvertes, allées chaude/froide) et les charges non informatiques ajoutées.',
      en: 'Check the room’s cooling (set points, free cooling, filters, open doors, hot/cold aisles) and any non-IT loads added.',
    },
    clearAfterMs: 0,
  };
  return {
    info,
    // Whole UTC days: a daily rule over months of index readings, read once a day.
    evaluate: memoByPeriod(DAY, async ({ query, rulesFor, siteName }, to) => {
      const roles = [DATACENTER_ROLES.facilityTotal, DATACENTER_ROLES.itLoad];
      const scopes = await query(
        select({
          select: [{ fn: 'count', field: ENERGY.field }],
          from: ENERGY.measurement,
          where: [...during(to - 2 * DAY, to), { tag: 'channel', equals: '' }, { tag: 'role', in: roles }],
          groupBy: ['tenant', 'site', 'zone', 'role'],
        }),
      );
      const byScope = new Map<string, { tenant: string; site: string; zone: string; roles: Set<string> }>();
      for (const s of scopes) {
        const t = s.tags ?? {};
        const key = `${t.tenant}\u0000${t.site}\u0000${t.zone ?? ''}`;
        const scope = byScope.get(key) ?? { tenant: t.tenant ?? '', site: t.site ?? '', zone: t.zone ?? '', roles: new Set<string>() };
        scope.roles.add(t.role ?? '');
        byScope.set(key, scope);
      }
      const findings: Finding[] = [];
      for (const scope of byScope.values()) {
        const p = paramsFor(rulesFor, 'D4', opts, scope.tenant, scope.site);
        if (!p || !roles.every((r) => scope.roles.has(r))) continue;
        const refFrom = to - opts.referenceDays * DAY;
        const recentFrom = to - p.days * DAY;
        const meters = await readMeterSeries({ query }, { tenant: scope.tenant, site: scope.site, zone: scope.zone || undefined }, roles, new Date(refFrom), new Date(to));
        if (meters.length === 0 || meters.some((m) => m.points.length === 0)) continue;
        const firstT = Math.max(...meters.map((m) => m.points[0]!.t));
        const lastT = Math.min(...meters.map((m) => m.points[m.points.length - 1]!.t));
        // The interim PUE needs readings from the start to the end of its window.
        if (firstT > recentFrom + DAY || lastT < to - DAY) continue;
        const scopeArgs = { tenant: scope.tenant, site: scope.site, ...(scope.zone ? { zone: scope.zone } : {}), meters };
        const recent = buildDatacenterReport({ ...scopeArgs, from: new Date(recentFrom), to: new Date(to) });
        const hasReference = firstT <= to - opts.minReferenceDays * DAY;
        const reference = hasReference ? buildDatacenterReport({ ...scopeArgs, from: new Date(Math.max(refFrom, firstT)), to: new Date(to) }) : undefined;
        if (recent.pue === null) continue;
        const pue = round2(recent.pue);
        const ref = reference?.pue != null ? round2(reference.pue) : undefined;
        const limit = ref !== undefined ? round2(ref * p.factor) : undefined;
        const firing = pue > p.maxPue || (limit !== undefined && pue > limit);
        const change = ref !== undefined ? Math.round((pue / ref - 1) * 100) : undefined;
        const subject: Subject = { tenant: scope.tenant, site: scope.site, ...(scope.zone ? { zone: scope.zone } : {}) };
        const who = describeSubject(subject, siteName);
        const total = Math.round(recent.energyKwh.total ?? 0);
        const it = Math.round(recent.energyKwh.it ?? 0);
        const n = formatNumber2;
        const against = (lang: 'fr' | 'en') =>
          ref !== undefined
            ? lang === 'fr'
              ? `contre ${n.fr(ref)} sur 12 mois (${change! >= 0 ? '+' : ''}${change} %) ; seuils ${n.fr(limit!)} (${n.fr(p.factor)} × le PUE sur 12 mois) ou ${n.fr(p.maxPue)}`
              : `against ${n.en(ref)} over 12 months (${change! >= 0 ? '+' : ''}${change} %); limits ${n.en(limit!)} (${n.en(p.factor)} × the 12-month PUE) or ${n.en(p.maxPue)}`
            : lang === 'fr'
              ? `(moins de 12 mois d'historique pour comparer) ; seuil ${n.fr(p.maxPue)}`
              : `(less than 12 months of history to compare with); limit ${n.en(p.maxPue)}`;
        findings.push({
          rule: info,
          subject,
          at: new Date(to),
          firing,
          severity: 'warning',
          window: { from: new Date(recentFrom), to: new Date(to) },
          thresholds: { factor: p.factor, max_pue: p.maxPue, days: p.days, ...(limit !== undefined ? { limit_pue: limit } : {}) },
          measured: {
            pue_recent: pue,
            pue_12_months: ref ?? 'n/a',
            kwh_total_recent: total,
            kwh_it_recent: it,
            ...(change !== undefined ? { change_pct: change } : {}),
            pue_category: recent.pueCategory,
          },
          message: {
            fr: `PUE de la salle serveur (${who.fr}) à ${n.fr(pue)} sur les ${p.days} derniers jours (${n.fr(total)} kWh au total pour ${n.fr(it)} kWh informatiques) ${against('fr')} : vérifier la climatisation.`,
            en: `PUE of the server room (${who.en}) at ${n.en(pue)} over the last ${p.days} days (${n.en(total)} kWh in total for ${n.en(it)} kWh of IT) ${against('en')}: check the cooling.`,
          },
        });
      }
      return findings;
    }),
  };
}

/** The server-room rules over stored series, in the order they run. */
export const DATACENTER_RULES = [
  defineRule({
    id: 'D2',
    kind: 'windowed',
    defaults: D2_DEFAULTS,
    siteParameters: { belowC: celsius('belowC (°C)') },
    description: (d) => ({
      fr: `Salle serveur trop refroidie : entrée d'air < ${formatNumber.fr(d.belowC)} °C en moyenne sur ${d.windowHours} h.`,
      en: `Server room over-cooled: inlet air < ${formatNumber.en(d.belowC)} °C on average over ${d.windowHours} h.`,
    }),
    reads: [ROLES.itInlet],
    evidence: { quantity: 'air.temperature', aggregation: 'hourly', roles: [ROLES.itInlet], threshold: 'below_c' },
    create: overCoolingRule,
  }),
  defineRule({
    id: 'D3',
    kind: 'windowed',
    defaults: D3_DEFAULTS,
    siteParameters: { maxDewPointC: celsius('maxDewPointC (°C)'), maxRhPct: num(1, 100, 'maxRhPct (%)'), minDewPointC: celsius('minDewPointC (°C)'), forMinutes: int(10, 120, 'forMinutes') },
    description: (d) => ({
      fr: `Humidité de salle serveur : point de rosée > ${formatNumber.fr(d.maxDewPointC)} °C ou HR > ${formatNumber.fr(d.maxRhPct)} % (condensation), ou point de rosée < ${fixed(d.minDewPointC, 0).fr} °C (électricité statique), tenu ${d.forMinutes} min à l'entrée des serveurs.`,
      en: `Server-room humidity: dew point > ${formatNumber.en(d.maxDewPointC)} °C or RH > ${formatNumber.en(d.maxRhPct)} % (condensation), or dew point < ${fixed(d.minDewPointC, 0).en} °C (static electricity), held for ${d.forMinutes} min at the server inlet.`,
    }),
    reads: [ROLES.itInlet],
    evidence: { quantity: 'air.relativeHumidity', aggregation: 'raw', roles: [ROLES.itInlet], threshold: 'max_rh_pct' },
    create: humidityRule,
  }),
  defineRule({
    id: 'D4',
    kind: 'windowed',
    defaults: D4_DEFAULTS,
    siteParameters: { factor: num(1, 3, 'factor'), maxPue: num(1, 10, 'maxPue'), days: int(7, 90, 'days') },
    description: (d) => ({
      fr: `PUE en dérive : PUE intermédiaire des ${d.days} derniers jours > ${fixed(d.factor, 2).fr} × le PUE sur 12 mois, ou > ${fixed(d.maxPue, 1).fr} (compteurs facility-total et it-load).`,
      en: `PUE drift: interim PUE of the last ${d.days} days > ${fixed(d.factor, 2).en} × the 12-month PUE, or > ${fixed(d.maxPue, 1).en} (facility-total and it-load meters).`,
    }),
    reads: [ROLES.facilityTotal, ROLES.itLoad],
    evidence: { quantity: 'metering.electricity.activeEnergy', aggregation: 'hourly', roles: [ROLES.facilityTotal, ROLES.itLoad], scale: { factor: 0.001, unit: 'kWh' } },
    create: pueDriftRule,
  }),
] as const;
