/**
 * Rules evaluated in the stream, on each uplink's canonical readings (no query needed): leak sensor wet (W7),
 * meter alarm flags (W3 burst, W4 backflow, W5 dry/tamper), CO₂ (A1), server-room inlet temperature (D1), low
 * battery (S2). Each rule's defaults are stated next to it (STREAM_RULES at the end), each rule citing its source; a rule returns undefined
 * when the uplink says nothing about its quantity, so it neither fires nor clears.
 * Duration conditions ("above 800 ppm for 10 min") keep a little state per subject. Sites may override the
 * thresholds or disable a rule (`sites[].rules`): `defaultStreamRules(rulesFor)` (rules/index.ts) applies those.
 */
import type { QuantityId } from '../../../decoders/model/quantities.ts';
import { ROLES } from '../../../decoders/model/roles.ts';
import { describeSubject, formatNumber, formatNumber2, formatTime, upperFirst, subjectKey, type Finding, type RuleInfo, type Severity, type Subject, type Text } from '../model.ts';
import { celsius, defineRule, num, type EvidenceDeclaration, type StreamInput, type StreamRule } from './define.ts';

export type { StreamInput, StreamRule } from './define.ts';

const MIN = 60_000;

function finding(
  rule: RuleInfo,
  input: StreamInput,
  firing: boolean,
  severity: Severity,
  from: Date,
  detail: { thresholds?: Finding['thresholds']; measured: Finding['measured']; message: () => Text; pending?: boolean },
): Finding {
  const { message, ...rest } = detail;
  const f = { rule, subject: input.subject, at: input.at, firing, severity, window: { from, to: input.at }, ...rest, thresholds: detail.thresholds ?? {} } as Finding;
  // The sentence (dates and numbers through Intl) is built only when read, i.e. when an alert opens or changes:
  // most uplinks fire nothing, and formatting on each of them was a visible share of the ingestion profile.
  let text: Text | undefined;
  Object.defineProperty(f, 'message', { enumerable: true, get: () => (text ??= message()) });
  return f;
}

/** A condition that must hold for `minMs` before it fires: remembers since when it holds, per subject. */
class Sustained {
  private readonly since = new Map<string, number>();

  /** Returns the start of the current stretch when the condition holds, undefined otherwise. */
  update(subject: Subject, at: Date, holds: boolean): Date | undefined {
    const key = subjectKey(subject);
    if (!holds) {
      this.since.delete(key);
      return undefined;
    }
    const start = this.since.get(key) ?? at.getTime();
    this.since.set(key, start);
    return new Date(start);
  }
}

/** W7: a leak sensor reports water. Critical at once; clears when it reports dry. */
const W7: RuleInfo = {
    id: 'W7',
    version: 1,
    category: 'water',
    title: { fr: 'Détecteur de fuite mouillé', en: 'Leak sensor wet' },
    source: { text: { fr: "État de fuite transmis par le détecteur dès qu'il détecte de l'eau", en: "Leak state reported by the sensor on detection" }, reference: "Netvox, R718WA User Manual; Dragino, LWL03A User Manual; Milesight, EM300-ZLD User Guide" },
    action: { fr: "Se rendre sur place, couper l'eau en amont si la fuite se confirme.", en: 'Go on site; shut the water upstream if the leak is confirmed.' },
    clearAfterMs: 0,
};
export const leakSensorWet: StreamRule = {
  info: W7,
  evaluate(input) {
    const wet = input.values['water.leak'];
    if (typeof wet !== 'boolean') return undefined;
    return finding(W7, input, wet, 'critical', input.at, {
      measured: { water_leak: wet ? 'wet' : 'dry' },
      message: () => {
        const who = describeSubject(input.subject, input.siteName);
        return {
          fr: `Présence d'eau détectée par ${who.fr} le ${formatTime.fr(input.at)} : intervention immédiate.`,
          en: `Water detected by ${who.en} at ${formatTime.en(input.at)}: immediate action needed.`,
        };
      },
    });
  },
};

function meterFlag(id: string, quantity: QuantityId, severity: Severity, title: Text, what: Text, action: Text, source: RuleInfo['source']): StreamRule {
  const info: RuleInfo = { id, version: 1, category: 'water', title, source, action, clearAfterMs: 0 };
  return {
    info,
    evaluate(input) {
      const flag = input.values[quantity];
      if (typeof flag !== 'boolean') return undefined;
      return finding(info, input, flag, severity, input.at, {
        measured: { [quantity]: flag ? 'on' : 'off' },
        message: () => {
          const who = describeSubject(input.subject, input.siteName);
          return {
            fr: `${upperFirst(who.fr)} signale ${what.fr} le ${formatTime.fr(input.at)}.`,
            en: `${upperFirst(who.en)} reports ${what.en} at ${formatTime.en(input.at)}.`,
          };
        },
      });
    },
  };
}

export const burstFlag = meterFlag(
  'W3',
  'water.alarm.burst',
  'major',
  { fr: 'Rupture / surdébit (alarme compteur)', en: 'Burst / overflow (meter alarm)' },
  { fr: 'une rupture ou un surdébit', en: 'a burst or overflow' },
  { fr: 'Vérifier le réseau en aval du compteur ; fermer la vanne si nécessaire.', en: 'Check the pipes after the meter; close the valve if needed.' },
  {
    text: { fr: "Alarme de rupture ou de surdébit du compteur lui-même, lue dans ses messages : débit au-dessus de 5 à 20 % de Q3 pendant 30 min (Kamstrup flowIQ 3100), fort débit pendant 1 h (Sensus iPERL+)", en: "The meter's own burst / high-flow alarm flag, as decoded from its payload: flow above 5-20 % of Q3 held for 30 min (Kamstrup flowIQ 3100), high flow held for 1 h (Sensus iPERL+)" },
    reference: 'Kamstrup, flowIQ® 3100 Technical Description (info code BURST); Sensus, iPERL+ alerts',
  },
);
export const backflowFlag = meterFlag(
  'W4',
  'water.alarm.backflow',
  'warning',
  { fr: "Retour d'eau", en: 'Backflow' },
  { fr: "un retour d'eau", en: 'backflow' },
  { fr: 'Vérifier le clapet anti-retour et le sens de pose du compteur (risque sanitaire).', en: 'Check the non-return valve and the meter orientation (contamination risk).' },
  {
    text: { fr: "Alarme de retour d'eau du compteur lui-même, lue dans ses messages : écoulement inversé pendant 15 min (Sensus), code d'information REVERSE (Kamstrup)", en: "The meter's own backflow alarm flag, as decoded from its payload: reverse flow for 15 min (Sensus), REVERSE info code (Kamstrup)" },
    reference: 'Sensus, iPERL User Manual (reverse flow alert); Kamstrup, MULTICAL® 21 Technical Description (info code REVERSE)',
  },
);

/** W5: dry pipe / empty meter, or tamper / removal. */
const W5: RuleInfo = {
    id: 'W5',
    version: 1,
    category: 'water',
    title: { fr: 'Compteur à sec ou fraude', en: 'Dry meter or tampering' },
    source: { text: { fr: "Alarmes de conduite vide et de fraude du compteur lui-même, lues dans ses messages : conduite vide (Sensus), codes d'information DRY et TAMPER (Kamstrup), air dans la conduite et fraude à l'aimant (Itron, Diehl)", en: "The meter's own dry-pipe and tamper flags, as decoded from its payload: empty pipe (Sensus), DRY and TAMPER info codes (Kamstrup), air in pipe and magnetic tamper (Itron, Diehl)" }, reference: "Kamstrup, MULTICAL® 21 Technical Description (info codes DRY, TAMPER); Sensus, iPERL User Manual; Itron and Diehl Metering meter event codes" },
    action: { fr: "Contrôler le compteur sur place (démontage, aimant, conduite vide).", en: 'Inspect the meter on site (removal, magnet, empty pipe).' },
    clearAfterMs: 0,
};
export const dryOrTamper: StreamRule = {
  info: W5,
  evaluate(input) {
    const dry = input.values['water.alarm.dry'];
    const tamper = input.values['water.alarm.tamper'];
    if (typeof dry !== 'boolean' && typeof tamper !== 'boolean') return undefined;
    const which = [dry === true ? { fr: 'conduite vide', en: 'dry pipe' } : undefined, tamper === true ? { fr: 'fraude / démontage', en: 'tampering / removal' } : undefined].filter(
      (x): x is Text => x !== undefined,
    );
    return finding(W5, input, which.length > 0, 'warning', input.at, {
      measured: { dry: dry === true ? 'on' : 'off', tamper: tamper === true ? 'on' : 'off' },
      message: () => {
        const who = describeSubject(input.subject, input.siteName);
        return {
          fr: `${upperFirst(who.fr)} signale : ${which.map((w) => w.fr).join(', ') || 'rien'} (${formatTime.fr(input.at)}).`,
          en: `${upperFirst(who.en)} reports: ${which.map((w) => w.en).join(', ') || 'nothing'} (${formatTime.en(input.at)}).`,
        };
      },
    });
  },
};

export const A1_DEFAULTS = { warnPpm: 800, majorPpm: 1500, forMs: 10 * MIN };

/** A1: CO₂ above 800 ppm for 10 min in occupied hours → "aérer"; above 1,500 ppm → major. */
export function co2Rule(opts: typeof A1_DEFAULTS = A1_DEFAULTS): StreamRule {
  const above = new Sustained();
  const info: RuleInfo = {
    id: 'A1',
    version: 1,
    category: 'air',
    title: { fr: 'CO₂ élevé : aérer', en: 'High CO₂: ventilate' },
    source: { text: { fr: "Haut Conseil de la santé publique : au-delà de 800 ppm de CO₂, aérer ou réduire le nombre d'occupants ; le niveau majeur à 1 500 ppm est un réglage par défaut de Veilleur", en: "Haut Conseil de la santé publique: above 800 ppm of CO₂, aerate or reduce the number of occupants; 1,500 ppm as the major level is a Veilleur default" }, reference: "Haut Conseil de la santé publique, avis du 28 avril 2021 relatif à l'adaptation des mesures d'aération, de ventilation et de mesure du dioxyde de carbone (CO₂) dans les établissements recevant du public" },
    action: { fr: 'Aérer la pièce (ouvrir les fenêtres 5 à 10 min) ou réduire le nombre d’occupants.', en: 'Ventilate the room (open windows 5–10 min) or reduce occupancy.' },
    clearAfterMs: opts.forMs,
  };
  return {
    info,
    evaluate(input) {
      const ppm = input.values['air.co2'];
      if (typeof ppm !== 'number') return undefined;
      const holds = input.occupied !== false && ppm > opts.warnPpm;
      const since = above.update(input.subject, input.at, holds);
      const firing = since !== undefined && input.at.getTime() - since.getTime() >= opts.forMs;
      const severity: Severity = ppm > opts.majorPpm ? 'major' : 'warning';
      const minutes = since ? Math.round((input.at.getTime() - since.getTime()) / MIN) : 0;
      return finding(info, input, firing, severity, since ?? input.at, {
        pending: since !== undefined && !firing,
        thresholds: { warn_ppm: opts.warnPpm, major_ppm: opts.majorPpm, for_min: opts.forMs / MIN },
        measured: { co2_ppm: ppm, above_for_min: minutes },
        message: () => {
          const who = describeSubject(input.subject, input.siteName);
          return {
            fr: `CO₂ à ${formatNumber.fr(ppm)} ppm, au-dessus de ${opts.warnPpm} ppm depuis ${minutes} min, relevé par ${who.fr} : aérer.`,
            en: `CO₂ at ${formatNumber.en(ppm)} ppm, above ${opts.warnPpm} ppm for ${minutes} min, measured by ${who.en}: ventilate.`,
          };
        },
      });
    },
  };
}

export const D1_DEFAULTS = { minC: 18, maxC: 27, criticalC: 32, forMs: 15 * MIN };

/** D1: server inlet outside 18–27 °C for 15 min → warning; above 32 °C → critical at once. */
export function inletTemperatureRule(opts: typeof D1_DEFAULTS = D1_DEFAULTS): StreamRule {
  const outside = new Sustained();
  const info: RuleInfo = {
    id: 'D1',
    version: 1,
    category: 'datacenter',
    title: { fr: 'Température d’entrée des serveurs hors plage', en: 'Server inlet temperature out of range' },
    source: { text: { fr: "Température recommandée à l'entrée d'air des équipements informatiques : de 18 à 27 °C ; 32 °C est le maximum admissible de la classe A1", en: "Recommended IT inlet temperature 18–27 °C; 32 °C is the class A1 allowable maximum" }, reference: "ASHRAE TC 9.9, Thermal Guidelines for Data Processing Environments; EN 50600-2-3 (data centre environmental control)" },
    action: { fr: 'Vérifier la climatisation et la circulation d’air de la baie.', en: 'Check the cooling and the rack airflow.' },
    clearAfterMs: opts.forMs,
  };
  return {
    info,
    evaluate(input) {
      if (input.role !== ROLES.itInlet) return undefined;
      const c = input.values['air.temperature'];
      if (typeof c !== 'number') return undefined;
      const since = outside.update(input.subject, input.at, c < opts.minC || c > opts.maxC);
      const critical = c > opts.criticalC;
      const firing = critical || (since !== undefined && input.at.getTime() - since.getTime() >= opts.forMs);
      const band = `${opts.minC}–${opts.maxC} °C`;
      return finding(info, input, firing, critical ? 'critical' : 'warning', since ?? input.at, {
        pending: since !== undefined && !firing,
        thresholds: { min_c: opts.minC, max_c: opts.maxC, critical_c: opts.criticalC, for_min: opts.forMs / MIN },
        measured: { inlet_c: c },
        message: () => {
          const who = describeSubject(input.subject, input.siteName);
          return {
            fr: `Entrée d'air à ${formatNumber.fr(c)} °C, hors de la plage recommandée ${band} : ${who.fr}.`,
            en: `Inlet air at ${formatNumber.en(c)} °C, outside the recommended ${band} band: ${who.en}.`,
          };
        },
      });
    },
  };
}


export const S2_DEFAULTS = { minPct: 10, minV: 2.9 };

/** S2: battery below 10 % (or below 2.9 V when only the voltage is known). */
export function lowBatteryRule(opts: typeof S2_DEFAULTS = S2_DEFAULTS): StreamRule {
  const info: RuleInfo = {
    id: 'S2',
    version: 1,
    category: 'fleet',
    title: { fr: 'Pile faible', en: 'Low battery' },
    source: { text: { fr: "Niveau ou tension de la pile tels que l'appareil les transmet ; 10 % et 2,9 V (une pile lithium de 3,6 V en fin de vie) sont des réglages par défaut de Veilleur : aucun texte ne fixe de seuil", en: "Battery level or voltage as the device reports it; 10 % and 2.9 V (a 3.6 V lithium cell near its end) are Veilleur defaults, no normative threshold exists" }, reference: "Device manufacturers' user manuals (battery level and voltage of the payload)" },
    action: { fr: 'Prévoir le remplacement de la pile ou du capteur.', en: 'Plan the battery (or sensor) replacement.' },
    clearAfterMs: 0,
  };
  return {
    info,
    evaluate(input) {
      const pct = input.values.batteryLevel;
      const v = input.values.battery;
      if (typeof pct !== 'number' && typeof v !== 'number') return undefined;
      const low = typeof pct === 'number' ? pct < opts.minPct : (v as number) < opts.minV;
      return finding(info, input, low, 'warning', input.at, {
        thresholds: { min_pct: opts.minPct, min_v: opts.minV },
        measured: typeof pct === 'number' ? { battery_pct: pct } : { battery_v: v as number },
        message: () => {
          // Volts to the hundredth: at one decimal, 2.85 V (below the 2.9 V threshold) would read "2,9 V".
          const value = typeof pct === 'number' ? `${formatNumber.fr(pct)} %` : `${formatNumber2.fr(v as number)} V`;
          const valueEn = typeof pct === 'number' ? `${formatNumber.en(pct)} %` : `${formatNumber2.en(v as number)} V`;
          const who = describeSubject(input.subject, input.siteName);
          return { fr: `Pile à ${value} : ${who.fr}.`, en: `Battery at ${valueEn}: ${who.en}.` };
        },
      });
    },
  };
}

const fixed = (rule: StreamRule) => () => rule;
const none = {};
const WATER_METERS = [ROLES.waterMain, ROLES.districtInflow];
// A meter's alarm flag is drawn on its hourly consumption: the flag alone is a step, the water says how much.
const WATER_HOURLY: EvidenceDeclaration = { quantity: 'metering.water.total', aggregation: 'hourly', roles: WATER_METERS };

/** The stream rules, in the order they run on each uplink. */
export const STREAM_RULES = [
  defineRule({
    id: 'W7',
    kind: 'stream',
    defaults: none,
    siteParameters: {},
    description: () => ({ fr: "Détecteur de fuite mouillé : critique dès l'uplink qui le signale.", en: 'Leak sensor wet: critical from the uplink that reports it.' }),
    reads: [ROLES.leakSensor],
    evidence: { quantity: 'water.leak', aggregation: 'raw' },
    create: fixed(leakSensorWet),
  }),
  defineRule({
    id: 'W3',
    kind: 'stream',
    defaults: none,
    siteParameters: {},
    description: () => ({ fr: 'Alarme rupture / surdébit remontée par le compteur.', en: 'Burst / overflow alarm reported by the meter.' }),
    reads: WATER_METERS,
    evidence: WATER_HOURLY,
    create: fixed(burstFlag),
  }),
  defineRule({
    id: 'W4',
    kind: 'stream',
    defaults: none,
    siteParameters: {},
    description: () => ({ fr: "Alarme retour d'eau remontée par le compteur.", en: 'Backflow alarm reported by the meter.' }),
    reads: WATER_METERS,
    evidence: WATER_HOURLY,
    create: fixed(backflowFlag),
  }),
  defineRule({
    id: 'W5',
    kind: 'stream',
    defaults: none,
    siteParameters: {},
    description: () => ({ fr: 'Alarme conduite vide ou fraude / démontage remontée par le compteur.', en: 'Dry pipe or tamper / removal alarm reported by the meter.' }),
    reads: WATER_METERS,
    evidence: WATER_HOURLY,
    create: fixed(dryOrTamper),
  }),
  defineRule({
    id: 'A1',
    kind: 'stream',
    defaults: A1_DEFAULTS,
    siteParameters: { warnPpm: num(400, 10_000, 'warnPpm (ppm)'), majorPpm: num(400, 10_000, 'majorPpm (ppm)') },
    description: (d) => ({
      fr: `CO₂ > ${formatNumber.fr(d.warnPpm)} ppm pendant ${d.forMs / MIN} min en occupation : aérer ; > ${formatNumber.fr(d.majorPpm)} ppm : majeur.`,
      en: `CO₂ > ${formatNumber.en(d.warnPpm)} ppm for ${d.forMs / MIN} min when occupied: ventilate; > ${formatNumber.en(d.majorPpm)} ppm: major.`,
    }),
    reads: [ROLES.room],
    evidence: { quantity: 'air.co2', aggregation: 'raw', threshold: 'warn_ppm' },
    create: co2Rule,
  }),
  defineRule({
    id: 'D1',
    kind: 'stream',
    defaults: D1_DEFAULTS,
    siteParameters: { minC: celsius('minC (°C)'), maxC: celsius('maxC (°C)'), criticalC: celsius('criticalC (°C)') },
    description: (d) => ({
      fr: `Entrée d'air des serveurs hors ${formatNumber.fr(d.minC)}–${formatNumber.fr(d.maxC)} °C pendant ${d.forMs / MIN} min ; critique au-dessus de ${formatNumber.fr(d.criticalC)} °C.`,
      en: `Server inlet air outside ${formatNumber.en(d.minC)}–${formatNumber.en(d.maxC)} °C for ${d.forMs / MIN} min; critical above ${formatNumber.en(d.criticalC)} °C.`,
    }),
    reads: [ROLES.itInlet],
    evidence: { quantity: 'air.temperature', aggregation: 'raw', roles: [ROLES.itInlet], threshold: 'max_c' },
    create: inletTemperatureRule,
  }),
  defineRule({
    id: 'S2',
    kind: 'stream',
    defaults: S2_DEFAULTS,
    siteParameters: { minPct: num(0, 100, 'minPct (%)'), minV: num(0, 5, 'minV (V)') },
    description: (d) => ({
      fr: `Pile sous ${formatNumber.fr(d.minPct)} % (ou ${formatNumber2.fr(d.minV)} V).`,
      en: `Battery below ${formatNumber.en(d.minPct)} % (or ${formatNumber2.en(d.minV)} V).`,
    }),
    reads: 'every device',
    evidence: { quantity: 'battery', aggregation: 'raw', threshold: 'min_v' },
    create: lowBatteryRule,
  }),
] as const;
