/**
 * The rule catalogue: every alert rule Veilleur evaluates, what it checks, where its thresholds come from, its
 * defaults and which of them a site may override (served by the HTTP API, shown to agents before they change a
 * threshold).
 */
import type { RuleInfo, Text } from './model.ts';
import { RULE_DEFAULTS, SITE_PARAMETERS, type RuleId } from './settings.ts';
import { defaultStreamRules } from './stream-rules.ts';
import { defaultWindowedRules } from './windowed-rules.ts';

export interface CatalogueEntry extends RuleInfo {
  /** stream: on each uplink; windowed: on a schedule over stored data (ALERT_EVAL_MINUTES). */
  kind: 'stream' | 'windowed';
  description: Text;
  defaults: Record<string, unknown>;
  /** The defaults a site may override under `sites[].rules.<id>` (plus `enabled`). */
  siteParameters: string[];
}

/** What each rule checks, in a sentence or two: the condition with its default numbers. */
export const RULE_DESCRIPTIONS: Record<RuleId, Text> = {
  W1: {
    fr: 'Débit continu : aucune heure sans eau sur les 24 dernières heures complètes et le plus petit volume horaire ≥ 10 L (hors compteurs de secteur). L’alerte se lève quand une heure complète repasse à zéro, pas quand le débit passe seulement sous 10 L/h.',
    en: 'Continuous flow: no hour without water over the last 24 complete hours and the smallest hourly volume ≥ 10 L (district meters excluded). Clears once a complete hour is back at zero, not when the flow merely drops under 10 L/h.',
  },
  W2: {
    fr: 'Débit minimum de nuit : P20 sur 7 nuits du plus petit volume sur une heure glissante entre 02:00 et 04:00 (heure locale, changements d’heure compris), au-dessus de 1,5 × le même P20 des 28 nuits précédentes et de 10 L/h.',
    en: 'Minimum night flow: 7-night P20 of the smallest rolling-hour volume between 02:00 and 04:00 (local time, DST included), above 1.5 × the same P20 over the 28 nights before and above 10 L/h.',
  },
  W3: { fr: 'Alarme rupture / surdébit remontée par le compteur.', en: 'Burst / overflow alarm reported by the meter.' },
  W4: { fr: "Alarme retour d'eau remontée par le compteur.", en: 'Backflow alarm reported by the meter.' },
  W5: { fr: 'Alarme conduite vide ou fraude / démontage remontée par le compteur.', en: 'Dry pipe or tamper / removal alarm reported by the meter.' },
  W6: {
    fr: "Compteur arrêté : il émet toujours mais son index n'a pas bougé depuis 21 jours, alors qu'il avait compté au moins 100 L les 60 jours précédents.",
    en: 'Stopped meter: it still reports but its index has not moved for 21 days, after at least 100 L over the 60 days before.',
  },
  W7: { fr: "Détecteur de fuite mouillé : critique dès l'uplink qui le signale.", en: 'Leak sensor wet: critical from the uplink that reports it.' },
  W7S: {
    fr: "Détecteur de fuite muet : aucun état reçu depuis plus de 2 × son intervalle (appris de ses messages, ou configuré par heartbeatMinutes).",
    en: 'Leak sensor silent: no state received for over 2 × its interval (learnt from its uplinks, or configured with heartbeatMinutes).',
  },
  W8: {
    fr: 'Bilan de secteur : chaque jour local, volume du compteur de secteur (rôle district-inflow) moins les autres compteurs du site ; alerte quand ces pertes dépassent la moyenne des 28 jours précédents + 3 écarts-types (et + 500 L/j au moins) 3 jours de suite.',
    en: 'District balance: each local day, the district meter’s volume (role district-inflow) minus the site’s other meters; alerts when these losses exceed the mean of the 28 days before + 3 standard deviations (and + 500 L/day at least) 3 days in a row.',
  },
  E1: {
    fr: 'Chauffage au-dessus de 19 °C : moyenne des pièces (rôle room) d’un bâtiment sur ses heures d’occupation des dernières 24 h > 19,5 °C, en saison de chauffe (1er octobre – 20 mai par défaut).',
    en: 'Heating above 19 °C: mean of a building’s rooms (role room) over its occupied hours of the last 24 h > 19.5 °C, in the heating season (1 October – 20 May by default).',
  },
  E2: {
    fr: 'Bâtiment inoccupé chauffé : sur la dernière inoccupation d’au moins 24 h, moyenne > 16 °C si elle est prévue pour moins de 48 h, > 8 °C au-delà (durée prévue au calendrier du site, jugée dès le début de la fermeture ; 4 h de refroidissement et 2 h de relance exclues), en saison de chauffe. Pendant la fermeture, l’alerte ne se lève pas avant sa fin.',
    en: 'Unoccupied building heated: over the latest closure of at least 24 h, mean > 16 °C when it is planned for under 48 h, > 8 °C beyond (length as planned in the site calendar, judged from the start of the closure; 4 h of cool-down and 2 h of pre-heat left out), in the heating season. While the closure goes on, the alert does not clear before its end.',
  },
  E3: {
    fr: 'Climatisation sous 26 °C : un compteur de rôle cooling tire plus de 100 W pendant plus de 30 min alors que les pièces desservies (même zone, sinon même bâtiment) sont à 26 °C ou moins. Salles serveur et appareils exemptés exclus.',
    en: 'Cooling below 26 °C: a meter of role cooling draws over 100 W for more than 30 min while the rooms it serves (same zone, else same building) are at 26 °C or less. Server rooms and exempted devices excluded.',
  },
  E4: {
    fr: 'Talon de nuit : médiane de la consommation horaire 00–05 h sur les 7 derniers jours complets (heure locale) > 50 % de la médiane des heures occupées.',
    en: 'Night base load: median hourly consumption 00:00–05:00 over the last 7 complete local days > 50 % of the occupied-hours median.',
  },
  E5: {
    fr: 'Dérive par degré-jour : kWh par DJU (base 18 °C, (Tmin+Tmax)/2 du capteur extérieur du site) du dernier mois complet > 1,10 × celui du même mois l’an dernier (compteurs de chaleur et compteurs principaux d’électricité ; au moins 50 DJU).',
    en: 'Degree-day drift: kWh per heating degree-day (base 18 °C, (Tmin+Tmax)/2 from the site’s outdoor sensor) of the last complete month > 1.10 × the same month last year (heat meters and main electricity meters; at least 50 HDD).',
  },
  A1: { fr: 'CO₂ > 800 ppm pendant 10 min en occupation : aérer ; > 1 500 ppm : majeur.', en: 'CO₂ > 800 ppm for 10 min when occupied: ventilate; > 1,500 ppm: major.' },
  D1: { fr: "Entrée d'air des serveurs hors 18–27 °C pendant 15 min ; critique au-dessus de 32 °C.", en: 'Server inlet air outside 18–27 °C for 15 min; critical above 32 °C.' },
  D2: { fr: "Salle serveur trop refroidie : entrée d'air < 22 °C en moyenne sur 24 h.", en: 'Server room over-cooled: inlet air < 22 °C on average over 24 h.' },
  D3: {
    fr: "Humidité de salle serveur : point de rosée > 15 °C ou HR > 60 % (condensation), ou point de rosée < −9 °C (électricité statique), tenu 30 min à l'entrée des serveurs.",
    en: 'Server-room humidity: dew point > 15 °C or RH > 60 % (condensation), or dew point < −9 °C (static electricity), held for 30 min at the server inlet.',
  },
  D4: {
    fr: 'PUE en dérive : PUE intermédiaire des 30 derniers jours > 1,10 × le PUE sur 12 mois, ou > 2,0 (compteurs facility-total et it-load).',
    en: 'PUE drift: interim PUE of the last 30 days > 1.10 × the 12-month PUE, or > 2.0 (facility-total and it-load meters).',
  },
  S1: { fr: 'Capteur silencieux depuis plus de 3 × son intervalle habituel.', en: 'Device silent for more than 3 × its usual interval.' },
  S2: { fr: 'Pile sous 10 % (ou 2,9 V).', en: 'Battery below 10 % (or 2.9 V).' },
  P1: {
    fr: "Radio peu sobre : plus de 30 s d'antenne par jour (calculées du SF, de la bande et de la taille de chaque message), ou plus de 4 × les messages dont le rôle a besoin (pièce 10 min, entrée serveur 5 min, extérieur 30 min, compteurs 15 min, détecteur de fuite 60 min).",
    en: 'Radio not parsimonious: over 30 s on air a day (computed from each uplink’s SF, bandwidth and size), or over 4 × the uplinks its role needs (room 10 min, server inlet 5 min, outdoor 30 min, meters 15 min, leak sensor 60 min).',
  },
};

/** Every rule, stream then windowed, with its description, defaults and per-site parameters. */
export function ruleCatalogue(): CatalogueEntry[] {
  const entry = (info: RuleInfo, kind: CatalogueEntry['kind']): CatalogueEntry => {
    const id = info.id as RuleId;
    return {
      ...info,
      kind,
      description: RULE_DESCRIPTIONS[id],
      defaults: { ...RULE_DEFAULTS[id] },
      siteParameters: ['enabled', ...Object.keys(SITE_PARAMETERS[id])],
    };
  };
  return [...defaultStreamRules().map((r) => entry(r.info, 'stream')), ...defaultWindowedRules().map((r) => entry(r.info, 'windowed'))];
}
