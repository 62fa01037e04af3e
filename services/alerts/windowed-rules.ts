/**
 * The last windowed rule not yet in rules/ (D2), and the names older callers import from here: the rule shapes
 * (rules/define.ts) and the windowed rules (rules/*.ts). New rules go under rules/, never here.
 */
import { QUANTITIES } from '../../decoders/model/quantities.ts';
import { ROLES } from '../../decoders/model/roles.ts';
import { seriesRows } from '../storage/influx.ts';
import { describeSubject, formatNumber, type Finding, type RuleInfo, type Subject } from './model.ts';
import { HOUR, ms } from './rules/common.ts';
import { celsius, defineRule, paramsFor, type WindowedRule } from './rules/define.ts';

export type { Query, WindowContext, WindowedRule } from './rules/define.ts';
export { baseLoadRule } from './rules/energy.ts';
export { silentDeviceRule } from './rules/fleet.ts';
export { continuousFlowRule } from './rules/water.ts';

const AIR_T = QUANTITIES['air.temperature'];

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
        `SELECT mean("${AIR_T.field}") AS mean_c, count("${AIR_T.field}") AS n, min("${AIR_T.field}") AS min_c, max("${AIR_T.field}") AS max_c FROM "${AIR_T.measurement}" WHERE time >= ${ms(from)} AND time < ${ms(to)} AND "role" = '${ROLES.itInlet}' GROUP BY "tenant", "site", "building", "zone"`,
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

/** The windowed rules still defined here (rules/index.ts lists them with the others). */
export const WINDOWED_RULES_NOT_YET_MOVED = [
  defineRule({
    id: 'D2',
    kind: 'windowed',
    defaults: D2_DEFAULTS,
    siteParameters: { belowC: celsius('belowC (°C)') },
    description: (d) => ({
      fr: `Salle serveur trop refroidie : entrée d'air < ${formatNumber.fr(d.belowC)} °C en moyenne sur ${d.windowHours} h.`,
      en: `Server room over-cooled: inlet air < ${formatNumber.en(d.belowC)} °C on average over ${d.windowHours} h.`,
    }),
    create: overCoolingRule,
  }),
] as const;
