/**
 * The reports as one self-contained HTML file (French by default, English on request): inline CSS, inline SVG
 * charts (svg.ts), no script and nothing fetched, so it opens offline, prints, and can be archived with the
 * council's minutes as it is. `{ fragment: true }` gives the same report without the <html> shell, its style
 * scoped to its own root element, for a page that embeds it (the web console).
 *
 * The yearly review is read and signed by elected officials: its body names communes, sites and devices as
 * people do (display names, role labels), explains its acronyms in a glossary, and leaves identifiers and
 * configuration advice to a technical appendix at the end.
 */
import { roleLabel } from '../registry/names.ts';
import { formatNumber, shareDigits, siteName, type Lang, type ReportNames, type Text } from './common.ts';
import { type ParsimonyDevice, type ParsimonyFlag, type ParsimonyReport, REPORTING_NEEDS, BATTERY_MODEL } from './parsimony.ts';
import { barChart, CHART_COLORS, escapeXml as esc, hBarChart, lineChart } from './svg.ts';
import { COVERAGE_THRESHOLD, type BuildingRow, type Headline, type Span, type YearlyReport } from './yearly.ts';

export interface RenderOptions {
  /** Without the <!doctype>/<html>/<head> shell: an <article> with its own scoped <style>, to embed in a page. */
  fragment?: boolean;
  /** Time zone of the parsimony report's dates (the yearly report carries its own); default Europe/Paris. */
  timeZone?: string;
}

const T = {
  yearlyTitle: { fr: 'Revue annuelle de la stratégie numérique responsable', en: 'Responsible-digital strategy: annual review' },
  parsimonyTitle: { fr: 'Sobriété radio des capteurs', en: 'Sensor radio parsimony' },
  tenant: { fr: 'Collectivité', en: 'Organisation' },
  period: { fr: 'Période', en: 'Period' },
  calendarYear: { fr: 'Année civile', en: 'Calendar year' },
  generated: { fr: 'Établi le', en: 'Generated on' },
  law: {
    fr: 'Loi REEN n° 2021-1485 du 15 novembre 2021, art. 35 : les communes et intercommunalités de plus de 50 000 habitants adoptent une stratégie numérique responsable et en font le bilan chaque année. Chiffres mesurés par Veilleur à partir de capteurs sans fil (LoRaWAN) ; méthodes, glossaire et annexe technique en fin de document.',
    en: 'Loi REEN 2021-1485 of 15 November 2021, art. 35: French communes and groupings above 50,000 inhabitants adopt a responsible-digital strategy and review it every year. Figures measured by Veilleur from wireless sensors (LoRaWAN); methods, glossary and technical appendix at the end.',
  },
  partialBanner: {
    fr: 'Mesures partielles : les capteurs n’ont mesuré que {span}, soit {pct} de l’année {year}. Les chiffres de ce document sont ceux de cette période, pas ceux de l’année entière.',
    en: 'Partial measurements: the sensors measured only {span}, that is {pct} of {year}. The figures of this document are those of that period, not of the whole year.',
  },
  noMeasure: { fr: 'Aucune mesure sur cette année.', en: 'No measurement in this year.' },
  summary: { fr: 'En bref', en: 'At a glance' },
  water: { fr: 'Eau', en: 'Water' },
  energy: { fr: 'Énergie des bâtiments', en: 'Building energy' },
  datacenter: { fr: 'Salles serveurs', en: 'Server rooms' },
  serverRoom: { fr: 'Salle serveurs', en: 'Server room' },
  fleet: { fr: 'Parc de capteurs et empreinte de la plateforme', en: 'Sensor fleet and platform footprint' },
  method: { fr: 'Méthodes et hypothèses', en: 'Methods and assumptions' },
  glossary: { fr: 'Glossaire', en: 'Glossary' },
  appendix: { fr: 'Annexe technique (pour le service informatique)', en: 'Technical appendix (for the IT department)' },
  appendixIntro: {
    fr: 'Cette annexe reprend les identifiants de la configuration de Veilleur et les réglages à faire ; elle n’est pas destinée à la lecture du rapport.',
    en: 'This appendix lists Veilleur’s configuration identifiers and the settings to make; it is not needed to read the report.',
  },
  warnings: { fr: 'Avertissements', en: 'Warnings' },
  waterVolume: { fr: 'Eau consommée', en: 'Water used' },
  leaks: { fr: 'Fuites détectées', en: 'Leaks detected' },
  leakLoss: { fr: 'Pertes estimées par fuite', en: 'Estimated leak losses' },
  buildingEnergy: { fr: 'Énergie des bâtiments', en: 'Building energy' },
  pue: { fr: 'PUE de la salle serveurs', en: 'Server room PUE' },
  pueShort: { fr: 'PUE', en: 'PUE' },
  devices: { fr: 'Capteurs actifs', en: 'Active sensors' },
  uplinks: { fr: 'Messages radio', en: 'Radio messages' },
  stored: { fr: 'Données stockées (estimation)', en: 'Data stored (estimate)' },
  measuredSpan: { fr: 'Mesuré', en: 'Measured' },
  coverageOfYear: { fr: 'de l’année', en: 'of the year' },
  partial: { fr: 'Chiffre partiel : ce n’est pas celui de l’année entière.', en: 'Partial figure: not the whole year’s.' },
  estimate: { fr: 'Estimation sur l’année', en: 'Estimate for the year' },
  noDataTile: { fr: 'aucune mesure', en: 'no measurement' },
  monthlyWater: { fr: 'Eau consommée par mois et par site', en: 'Water used per month and site' },
  monthlyEnergy: { fr: 'Énergie par mois et par bâtiment', en: 'Energy per month and building' },
  missingMonth: { fr: 'sans mesure', en: 'no data' },
  missingLegend: { fr: 'mois sans mesure', en: 'month without data' },
  partialMonth: { fr: 'partiel', en: 'partial' },
  site: { fr: 'Site', en: 'Site' },
  building: { fr: 'Bâtiment', en: 'Building' },
  device: { fr: 'Capteur', en: 'Device' },
  deviceName: { fr: 'Nom dans la configuration', en: 'Configuration name' },
  role: { fr: 'Rôle', en: 'Role' },
  volume: { fr: 'Volume', en: 'Volume' },
  coverage: { fr: 'Couverture de l’année', en: 'Coverage of the year' },
  spanCol: { fr: 'Période mesurée', en: 'Period measured' },
  readings: { fr: 'Heures avec relevé', en: 'Hours with a reading' },
  alertKind: { fr: 'Alerte', en: 'Alert' },
  start: { fr: 'Début', en: 'Start' },
  end: { fr: 'Fin', en: 'End' },
  ongoing: { fr: 'en cours', en: 'ongoing' },
  duration: { fr: 'Durée', en: 'Duration' },
  excess: { fr: 'Débit excédentaire', en: 'Excess flow' },
  loss: { fr: 'Perte estimée', en: 'Estimated loss' },
  basis: { fr: 'Estimation', en: 'Estimate' },
  noLeak: { fr: 'Aucune fuite détectée sur la période mesurée.', en: 'No leak detected over the period measured.' },
  otherWater: { fr: 'Autres alertes sur l’eau (hors fuites)', en: 'Other water alerts (not leaks)' },
  notEstimated: { fr: 'non estimé', en: 'not estimated' },
  dju: { fr: 'DJU (base 18 °C)', en: 'Degree-days (base 18 °C)' },
  djuDays: { fr: 'Jours mesurés', en: 'Days measured' },
  kwhPerDju: { fr: 'kWh par DJU', en: 'kWh per degree-day' },
  noOutdoor: { fr: 'pas de sonde extérieure', en: 'no outdoor sensor' },
  tertiaire: { fr: 'Décret tertiaire : trajectoire −40 % en 2030', en: 'Décret tertiaire: −40 % by 2030 path' },
  referenceYear: { fr: 'Année de référence', en: 'Reference year' },
  reference: { fr: 'Référence', en: 'Reference' },
  path: { fr: 'Trajectoire cette année', en: 'Path this year' },
  measured: { fr: 'Mesuré', en: 'Measured' },
  reduction: { fr: 'Réduction', en: 'Reduction' },
  verdict: { fr: 'Verdict', en: 'Verdict' },
  onTrack: { fr: 'dans la trajectoire', en: 'on track' },
  offTrack: { fr: 'au-dessus de la trajectoire', en: 'above the path' },
  partialYear: { fr: 'année incomplète : pas de verdict', en: 'incomplete year: no verdict' },
  notDrawn: {
    fr: 'La consommation mesurée n’est pas placée sur la trajectoire : elle ne couvre qu’une partie de l’année et ne se compare pas à un objectif annuel.',
    en: 'The measured consumption is not drawn on the path: it covers only part of the year and does not compare with a yearly target.',
  },
  indicator: { fr: 'Indicateur', en: 'Indicator' },
  value: { fr: 'Valeur', en: 'Value' },
  pathName: { fr: 'Trajectoire', en: 'Path' },
  noTertiaire: {
    fr: 'Aucune consommation de référence n’est renseignée pour les bâtiments : la trajectoire du décret tertiaire ne peut pas être suivie dans ce rapport. Le service technique peut la renseigner (voir l’annexe technique).',
    en: 'No reference consumption is set for the buildings: the décret tertiaire path cannot be followed in this report. The technical team can set it (see the technical appendix).',
  },
  target: { fr: 'Objectif', en: 'Target' },
  noData: { fr: 'Aucune donnée pour cette année.', en: 'No data for this year.' },
  facility: { fr: 'Total de la salle', en: 'Facility total' },
  it: { fr: 'Équipements informatiques', en: 'IT equipment' },
  dcie: { fr: 'DCiE', en: 'DCiE' },
  carbon: { fr: 'Carbone', en: 'Carbon' },
  factor: { fr: 'Facteur d’émission', en: 'Emission factor' },
  category: { fr: 'Point de mesure de l’informatique', en: 'Where IT energy is measured' },
  monthlyDc: { fr: 'Énergie par mois', en: 'Energy per month' },
  airtimeChart: { fr: 'Temps d’antenne par jour et par capteur', en: 'Time on air per day and device' },
  budget: { fr: 'limite 30 s/jour', en: '30 s/day budget' },
  uplinksPerDay: { fr: 'Messages par jour', en: 'Uplinks per day' },
  needed: { fr: 'Besoin des règles d’alerte', en: 'What the alert rules need' },
  airtimePerDay: { fr: 'Antenne (s/jour)', en: 'Airtime (s/day)' },
  airtimeMs: { fr: 'Antenne par message (ms)', en: 'Airtime per uplink (ms)' },
  sf: { fr: 'Facteur d’étalement', en: 'Spreading factor' },
  battery: { fr: 'Pile (ans)', en: 'Battery (years)' },
  batteryAtNeed: { fr: 'Pile au rythme suffisant (ans)', en: 'Battery at the widest interval (years)' },
  flags: { fr: 'Constat', en: 'Finding' },
  ok: { fr: 'sobre', en: 'parsimonious' },
  needsTable: { fr: 'Rythme d’émission dont les règles d’alerte ont besoin', en: 'Reporting intervals the rules need' },
  interval: { fr: 'Intervalle', en: 'Interval' },
  rules: { fr: 'Règles', en: 'Rules' },
  why: { fr: 'Pourquoi', en: 'Why' },
  storage: { fr: 'Données stockées', en: 'Data stored' },
  dataKind: { fr: 'Nature des données', en: 'Kind of data' },
  points: { fr: 'Points', en: 'Points' },
  values: { fr: 'Valeurs', en: 'Values' },
  size: { fr: 'Taille estimée', en: 'Estimated size' },
  total: { fr: 'Total', en: 'Total' },
  radioEnergy: { fr: 'Énergie radio des capteurs', en: 'Sensors’ radio energy' },
  airtimeTotal: { fr: 'Temps d’antenne total', en: 'Total time on air' },
  flagged: { fr: 'Capteurs à revoir', en: 'Devices to review' },
  batteryModel: { fr: 'Modèle de pile', en: 'Battery model' },
  heartbeat: { fr: 'signe de vie + événement', en: 'heartbeat + event' },
  identifiers: { fr: 'Identifiants', en: 'Identifiers' },
  identifier: { fr: 'Identifiant', en: 'Identifier' },
  name: { fr: 'Nom affiché', en: 'Display name' },
  timeZone: { fr: 'Fuseau horaire', en: 'Time zone' },
  devicesTech: { fr: 'Capteurs', en: 'Devices' },
  advice: { fr: 'Réglages conseillés', en: 'Suggested settings' },
  noAdvice: { fr: 'Aucun réglage manquant.', en: 'No missing setting.' },
} satisfies Record<string, Text>;

const FLAG_TEXT: Record<ParsimonyFlag, Text> = {
  'over-reporting': { fr: 'émet trop souvent', en: 'over-reporting' },
  'under-reporting': { fr: 'trop rare pour ses règles', en: 'too sparse for its rules' },
  'airtime-over-budget': { fr: 'plus de 30 s/jour d’antenne', en: '> 30 s/day on air' },
  'unknown-role': { fr: 'rôle inconnu', en: 'unknown role' },
};

/** What each kind of stored data is, for the reader (measurement names are identifiers). */
const DATA_KINDS: Record<string, Text> = {
  uplink: { fr: 'Messages radio reçus', en: 'Radio messages received' },
  uplink_undecoded: { fr: 'Messages conservés bruts (non décodés)', en: 'Messages kept raw (not decoded)' },
  lns_object: { fr: 'Valeurs décodées par le serveur de réseau', en: 'Values decoded by the network server' },
  device_status: { fr: 'État des capteurs (pile, signal)', en: 'Device status (battery, signal)' },
  device_event: { fr: 'Événements des capteurs (connexions)', en: 'Device events (joins)' },
  alert_event: { fr: 'Événements d’alerte', en: 'Alert events' },
  water: { fr: 'Mesures d’eau (index, débits, fuites)', en: 'Water readings (indexes, flows, leaks)' },
  electricity: { fr: 'Mesures d’électricité', en: 'Electricity readings' },
  heat: { fr: 'Mesures de chaleur', en: 'Heat readings' },
  air: { fr: 'Mesures d’ambiance (température, humidité, CO₂)', en: 'Air readings (temperature, humidity, CO₂)' },
  presence: { fr: 'Présence et ouvertures', en: 'Presence and openings' },
  pulse: { fr: 'Compteurs d’impulsions', en: 'Pulse counters' },
  device: { fr: 'Mesures internes des capteurs', en: 'Devices’ own readings' },
};

/** Where the IT energy is measured (ISO/IEC 30134-2 categories), as kpi.ts names them. */
const PUE_CATEGORY_TEXT: Record<string, Text> = {
  'category 1 (UPS output)': { fr: 'catégorie 1 : sortie des onduleurs', en: 'category 1: UPS output' },
  'category 2 (PDU output)': { fr: 'catégorie 2 : sortie des unités de distribution', en: 'category 2: PDU output' },
  'category 3 (IT equipment input)': { fr: 'catégorie 3 : entrée des équipements', en: 'category 3: IT equipment input' },
  unknown: { fr: 'non renseigné', en: 'not set' },
};

const GLOSSARY: { term: string; text: Text }[] = [
  { term: 'LoRaWAN', text: { fr: 'réseau radio à longue portée et faible consommation qui transporte les mesures des capteurs.', en: 'long-range, low-power radio network carrying the sensors’ readings.' } },
  { term: 'REEN', text: { fr: 'loi visant à réduire l’empreinte environnementale du numérique en France (n° 2021-1485).', en: 'French law on reducing the environmental footprint of digital technology (2021-1485).' } },
  { term: 'DJU', text: { fr: 'degrés-jours unifiés : écart entre 18 °C et la température extérieure moyenne de chaque jour, cumulé ; mesure la rigueur du climat et permet de comparer le chauffage d’une année à l’autre.', en: 'heating degree-days: how far each day’s mean outdoor temperature falls below 18 °C, summed; compares heating between years.' } },
  { term: 'Décret tertiaire', text: { fr: 'décret n° 2019-771 : les bâtiments tertiaires de plus de 1 000 m² réduisent leur consommation d’énergie de 40 % en 2030, 50 % en 2040 et 60 % en 2050 par rapport à une année de référence.', en: 'décret 2019-771: tertiary buildings over 1,000 m² cut their energy use by 40 % by 2030, 50 % by 2040 and 60 % by 2050 against a reference year.' } },
  { term: 'OPERAT', text: { fr: 'plateforme de l’ADEME où sont déclarées les consommations au titre du décret tertiaire.', en: 'ADEME platform where décret tertiaire consumptions are declared.' } },
  { term: 'PUE', text: { fr: 'indicateur d’efficacité énergétique d’une salle serveurs : énergie totale de la salle divisée par celle des seuls équipements informatiques (1 serait parfait ; norme ISO/IEC 30134-2).', en: 'power usage effectiveness: total energy of the server room divided by that of the IT equipment alone (1 would be perfect; ISO/IEC 30134-2).' } },
  { term: 'DCiE', text: { fr: 'inverse du PUE, en % : part de l’énergie de la salle qui va aux équipements informatiques.', en: 'inverse of the PUE, in %: share of the room’s energy reaching the IT equipment.' } },
  { term: 'kgCO₂e', text: { fr: 'kilogrammes d’équivalent CO₂ : émissions de gaz à effet de serre ramenées au CO₂.', en: 'kilograms of CO₂ equivalent: greenhouse-gas emissions expressed as CO₂.' } },
  { term: 'ADEME', text: { fr: 'Agence de la transition écologique, qui publie les facteurs d’émission de la Base Empreinte.', en: 'French agency for ecological transition, publisher of the Base Empreinte emission factors.' } },
  { term: 'Temps d’antenne', text: { fr: 'durée pendant laquelle un capteur émet ; sur un réseau partagé, il est limité (30 s par jour et par capteur est l’usage courant).', en: 'time a sensor spends transmitting; limited on a shared network (30 s per day and device is the usual rule).' } },
  { term: 'SF7 à SF12', text: { fr: 'facteur d’étalement de la radio LoRa : plus il est élevé, plus le message porte loin mais plus il occupe l’antenne longtemps (SF12 ≈ 30 fois SF7).', en: 'LoRa spreading factor: the higher, the farther a message carries but the longer it stays on air (SF12 ≈ 30 × SF7).' } },
  { term: 'UKWIR', text: { fr: 'UK Water Industry Research, organisme de recherche des distributeurs d’eau britanniques, auteur de la méthode du débit minimum de nuit pour repérer les fuites.', en: 'UK Water Industry Research, author of the minimum night flow method for finding leaks.' } },
  { term: 'HCSP', text: { fr: 'Haut Conseil de la santé publique, qui recommande d’aérer au-delà de 800 ppm de CO₂.', en: 'French High Council for Public Health, which recommends ventilating above 800 ppm of CO₂.' } },
  { term: 'ASHRAE', text: { fr: 'association américaine des ingénieurs du chauffage et de la climatisation, dont les recommandations fixent 18 à 27 °C à l’entrée des serveurs.', en: 'American society of heating and air-conditioning engineers, whose guidance sets 18–27 °C at server inlets.' } },
  { term: 'BACS', text: { fr: 'décret sur les systèmes d’automatisation et de contrôle des bâtiments (R175-1 et suivants du code de la construction), qui demande un suivi horaire des consommations.', en: 'building automation and control systems decree (French construction code R175-1 ff.), requiring hourly monitoring of consumption.' } },
];

// Text colours are none of the chart colours (svg.ts CHART_COLORS): a chart is recognisable by its colours alone.
// Every rule is scoped to the report's root, so that a page embedding a fragment keeps its own style.
const STYLE = `
.vr,.vr *{box-sizing:border-box}.vr{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;color:#212529;background:#fff;line-height:1.45;max-width:1000px;margin:0 auto;padding:24px}
.vr h1{font-size:25px;margin:0 0 2px}.vr .subtitle{font-size:19px;font-weight:600;margin:0 0 8px;color:#343a40}.vr h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #dee2e6;padding-bottom:4px}
.vr h3{font-size:15px;margin:20px 0 6px}.vr p.meta{color:#495057;margin:2px 0}.vr .law{font-size:13px;color:#495057}
.vr .banner{border-left:5px solid #e67700;background:#fff4e6;padding:10px 14px;margin:14px 0;font-size:14px}
.vr .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px;margin:12px 0}.vr .card{border:1px solid #dee2e6;border-radius:6px;padding:10px 14px}
.vr .card.partial{border-color:#f08c00;background:#fffaf0}.vr .card .v{font-size:21px;font-weight:600}.vr .card .l{font-size:13px;color:#343a40;font-weight:600}
.vr .card .s{font-size:12px;color:#495057;margin-top:4px}.vr .card .w{font-size:12px;color:#a61e1e;margin-top:4px}
.vr table{border-collapse:collapse;width:100%;font-size:12.5px;margin:8px 0}.vr th,.vr td{border-bottom:1px solid #e9ecef;padding:4px 6px;text-align:left;vertical-align:top}
.vr th{background:#f8f9fa}.vr td.n{text-align:right;white-space:nowrap}.vr .flag{color:#a61e1e;font-weight:600}.vr .good{color:#1f6b31}.vr .muted{color:#6c757d}
.vr svg.chart{display:block;margin:10px 0;max-width:100%;height:auto}.vr .chart-title{font-size:13px;font-weight:600}.vr ul{padding-left:20px}.vr li{margin:4px 0;font-size:13px}
.vr dl{font-size:13px;margin:8px 0}.vr dt{font-weight:600;margin-top:6px}.vr dd{margin:0 0 0 16px}.vr code{font-size:12px;background:#f1f3f5;padding:0 3px;border-radius:3px}
.vr pre{font-size:12px;background:#f1f3f5;padding:8px;border-radius:4px;white-space:pre-wrap}.vr section.appendix{margin-top:40px;border-top:3px double #adb5bd}
@media print{.vr{padding:0}.vr h2{break-after:avoid}.vr svg.chart,.vr table,.vr .card{break-inside:avoid}.vr section.appendix{break-before:page}}
`;

const t = (lang: Lang, key: keyof typeof T) => T[key][lang];
const n = formatNumber;
const sepOf = (lang: Lang) => (lang === 'fr' ? ' : ' : ': ');

function monthLabels(months: readonly string[], lang: Lang): string[] {
  const f = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { month: 'short', timeZone: 'UTC' });
  return months.map((m) => f.format(new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 15))));
}

function dateTime(iso: string | null, lang: Lang, timeZone: string): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

/** Day, month name and year of a local date; French writes the first of a month as an ordinal (« 1er »). */
function dateParts(iso: string, lang: Lang, timeZone: string): { day: string; month: string; year: string } {
  const parts = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone, day: 'numeric', month: 'long', year: 'numeric' }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('day');
  return { day: lang === 'fr' && day === '1' ? '1er' : day, month: get('month'), year: get('year') };
}

function date(iso: string, lang: Lang, timeZone: string): string {
  const d = dateParts(iso, lang, timeZone);
  return `${d.day} ${d.month} ${d.year}`;
}

/** "du 3 au 5 février 2026", "du 3 janvier au 5 février 2026", or "le 3 février 2026" for one day. */
function spanText(span: Span | null, lang: Lang, timeZone: string): string {
  if (!span) return t(lang, 'noDataTile');
  const a = dateParts(span.from, lang, timeZone);
  const b = dateParts(span.to, lang, timeZone);
  const [du, au, le] = lang === 'fr' ? ['du', 'au', 'le'] : ['from', 'to', 'on'];
  if (a.year !== b.year) return `${du} ${a.day} ${a.month} ${a.year} ${au} ${b.day} ${b.month} ${b.year}`;
  if (a.month !== b.month) return `${du} ${a.day} ${a.month} ${au} ${b.day} ${b.month} ${b.year}`;
  if (a.day !== b.day) return `${du} ${a.day} ${au} ${b.day} ${b.month} ${b.year}`;
  return `${le} ${b.day} ${b.month} ${b.year}`;
}

const pct = (lang: Lang, x: number) => `${n(lang, x * 100, shareDigits(x))} %`;

function bytes(lang: Lang, b: number): string {
  const units = ['o', 'ko', 'Mo', 'Go'];
  const unitsEn = ['B', 'kB', 'MB', 'GB'];
  let v = b;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${n(lang, v, 1)} ${(lang === 'fr' ? units : unitsEn)[i]}`;
}

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function card(value: string, label: string): string {
  return `<div class="card"><div class="v">${value}</div><div class="l">${esc(label)}</div></div>`;
}

function page(lang: Lang, title: string, body: string, opts: RenderOptions): string {
  const article = `<article class="vr" lang="${lang}"><style>${STYLE}</style>${body}</article>`;
  if (opts.fragment) return article;
  return `<!doctype html>\n<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title></head><body style="margin:0;background:#fff">${article}</body></html>\n`;
}

/**
 * What the reader calls each device: its role and site ("Compteur d’eau du bâtiment – Gymnase municipal"),
 * numbered when a site has several of the same role. Configuration names stay in the technical appendix.
 */
export function deviceLabels(devices: readonly { devEui: string; role: string | null; site: string }[], names: ReportNames, lang: Lang): Map<string, string> {
  const base = new Map<string, string>();
  const count = new Map<string, number>();
  for (const d of [...devices].sort((a, b) => a.devEui.localeCompare(b.devEui))) {
    const label = `${roleLabel(d.role ?? undefined, lang)} – ${siteName(names, d.site)}`;
    count.set(label, (count.get(label) ?? 0) + 1);
    base.set(d.devEui, label);
  }
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  for (const d of [...devices].sort((a, b) => a.devEui.localeCompare(b.devEui))) {
    const label = base.get(d.devEui)!;
    if ((count.get(label) ?? 0) < 2) out.set(d.devEui, label);
    else {
      const k = (seen.get(label) ?? 0) + 1;
      seen.set(label, k);
      out.set(d.devEui, `${label} (${lang === 'fr' ? 'n°' : 'no.'} ${k})`);
    }
  }
  return out;
}

function flagsCell(d: ParsimonyDevice, lang: Lang): string {
  const real = d.flags.filter((f) => f !== 'unknown-role');
  if (real.length === 0) return d.flags.length ? `<span class="muted">${esc(FLAG_TEXT['unknown-role'][lang])}</span>` : `<span class="good">${esc(t(lang, 'ok'))}</span>`;
  return `<span class="flag">${real.map((f) => esc(FLAG_TEXT[f][lang])).join(', ')}</span>`;
}

function needCell(d: ParsimonyDevice, lang: Lang): string {
  if (!d.need) return '–';
  const range = `${n(lang, d.need.finestMin, 0)}–${n(lang, d.need.coarsestMin, 0)} min`;
  const perDay = lang === 'fr' ? '/jour' : '/day';
  return esc(`${range}${d.need.heartbeat ? ` (${t(lang, 'heartbeat')})` : ''}, ≤ ${n(lang, d.need.neededUplinksPerDay, 0)}${perDay}`);
}

function airtimeChart(devices: readonly ParsimonyDevice[], labels: ReadonlyMap<string, string>, lang: Lang): string {
  return hBarChart({
    name: 'airtime',
    title: t(lang, 'airtimeChart'),
    items: devices.map((d) => ({ label: labels.get(d.devEui) ?? d.device, value: d.airtimeSPerDay, color: d.flags.includes('airtime-over-budget') ? CHART_COLORS.budget : CHART_COLORS.airtime })),
    unit: lang === 'fr' ? 's/jour' : 's/day',
    lang,
    width: 940,
    labelWidth: 380,
    reference: { value: 30, label: t(lang, 'budget'), color: CHART_COLORS.budget },
  });
}

/** The devices as the reader knows them: label, rates, battery, finding. */
function fleetTable(devices: readonly ParsimonyDevice[], labels: ReadonlyMap<string, string>, lang: Lang): string {
  const rows = devices.map((d) => [
    esc(labels.get(d.devEui) ?? d.device),
    n(lang, d.uplinksPerDay, 1),
    needCell(d, lang),
    n(lang, d.airtimeSPerDay, 2),
    n(lang, d.battery?.years, 1),
    n(lang, d.battery?.yearsAtCoarsest, 1),
    flagsCell(d, lang),
  ]);
  return table([t(lang, 'device'), t(lang, 'uplinksPerDay'), t(lang, 'needed'), t(lang, 'airtimePerDay'), t(lang, 'battery'), t(lang, 'batteryAtNeed'), t(lang, 'flags')].map(esc), rows, [1, 3, 4, 5]);
}

/** The devices as the configuration knows them (technical): names, DevEUI, radio settings. */
function technicalDeviceTable(devices: readonly ParsimonyDevice[], labels: ReadonlyMap<string, string>, lang: Lang): string {
  const rows = devices.map((d) => [
    esc(labels.get(d.devEui) ?? ''),
    `<code>${esc(d.device || '–')}</code>`,
    `<code>${esc(d.devEui)}</code>`,
    d.spreadingFactor === null ? '–' : `SF${d.spreadingFactor}`,
    n(lang, d.airtimeMsPerUplink, 1),
    n(lang, d.uplinks, 0),
  ]);
  return table([t(lang, 'device'), t(lang, 'deviceName'), 'DevEUI', t(lang, 'sf'), t(lang, 'airtimeMs'), t(lang, 'uplinks')].map(esc), rows, [4, 5]);
}

function needsTable(lang: Lang): string {
  const needs = Object.entries(REPORTING_NEEDS).map(([role, need]) => [
    esc(roleLabel(role, lang)),
    esc(`${need.finestMin}–${need.coarsestMin} min${need.heartbeat ? ` (${t(lang, 'heartbeat')})` : ''}`),
    esc(need.rules.join(', ') || '–'),
    esc(need.reason[lang]),
  ]);
  return `<h3>${esc(t(lang, 'needsTable'))}</h3>` + table([t(lang, 'role'), t(lang, 'interval'), t(lang, 'rules'), t(lang, 'why')].map(esc), needs);
}

function batteryModelText(lang: Lang): string {
  const m = BATTERY_MODEL;
  return lang === 'fr'
    ? `Charge par message = temps d’antenne × ${m.txCurrentMa} mA + ${m.rxWindowMs} ms × ${m.rxCurrentMa} mA ; veille ${m.sleepCurrentMa * 1000} µA ; autodécharge ${m.selfDischargePerYear * 100} % par an ; pile lithium AA de ${String(m.capacityMah / 1000).replace('.', ',')} Ah sous ${String(m.voltageV).replace('.', ',')} V, ${m.usableFraction * 100} % utilisables. Part de la radio seulement (les mesures du capteur ne sont pas comptées).`
    : `Charge per uplink = airtime × ${m.txCurrentMa} mA + ${m.rxWindowMs} ms × ${m.rxCurrentMa} mA; ${m.sleepCurrentMa * 1000} µA sleep; ${m.selfDischargePerYear * 100} %/year self-discharge; lithium AA cell ${m.capacityMah / 1000} Ah / ${m.voltageV} V, ${m.usableFraction * 100} % usable. Radio share only (the sensor's own measurements not counted).`;
}

/** The parsimony report: a technical document about individual sensors, so it shows their configuration names too. */
export function renderParsimonyHtml(r: ParsimonyReport, lang: Lang = 'fr', opts: RenderOptions = {}): string {
  const names = r.names;
  const title = `${t(lang, 'parsimonyTitle')} – ${names.tenant}`;
  const labels = deviceLabels(r.devices, names, lang);
  const tz = opts.timeZone ?? 'Europe/Paris';
  const body =
    `<h1>${esc(title)}</h1>` +
    `<p class="meta">${esc(t(lang, 'period'))}${sepOf(lang)}${esc(spanText({ from: r.period.from, to: new Date(Date.parse(r.period.to) - 1).toISOString() }, lang, tz))} (${n(lang, r.period.days, 2)} ${r.period.days > 1 ? (lang === 'fr' ? 'jours' : 'days') : lang === 'fr' ? 'jour' : 'day'})</p>` +
    `<div class="cards">${card(n(lang, r.totals.devices, 0), t(lang, 'devices'))}${card(n(lang, r.totals.uplinksPerDay, 0), t(lang, 'uplinksPerDay'))}${card(`${n(lang, r.totals.airtimeSPerDay, 1)} s`, t(lang, 'airtimePerDay'))}${card(n(lang, r.totals.flagged, 0), t(lang, 'flagged'))}</div>` +
    airtimeChart(r.devices, labels, lang) +
    fleetTable(r.devices, labels, lang) +
    `<h3>${esc(t(lang, 'devicesTech'))}</h3>` +
    technicalDeviceTable(r.devices, labels, lang) +
    needsTable(lang) +
    `<h3>${esc(t(lang, 'batteryModel'))}</h3><p class="law">${esc(batteryModelText(lang))}</p>` +
    (r.warnings.length ? `<h3>${esc(t(lang, 'warnings'))}</h3><ul>${r.warnings.map((w) => `<li>${esc(w[lang])}</li>`).join('')}</ul>` : '');
  return page(lang, title, body, opts);
}

const HEADLINE_LABEL: Record<Headline['key'], keyof typeof T> = {
  water: 'waterVolume',
  leaks: 'leaks',
  leakLoss: 'leakLoss',
  energy: 'buildingEnergy',
  pue: 'pue',
  devices: 'devices',
  uplinks: 'uplinks',
  stored: 'stored',
};

function headlineValue(h: Headline, lang: Lang, value: number | null = h.value): string {
  if (value === null) return '–';
  switch (h.key) {
    case 'water':
      return `${n(lang, value, 1)} m³`;
    case 'leakLoss':
      return `${n(lang, value, 2)} m³`;
    case 'energy':
      return `${n(lang, value, 0)} kWh`;
    case 'pue':
      return n(lang, value, 2);
    case 'stored':
      return bytes(lang, value);
    default:
      return n(lang, value, 0);
  }
}

/** A summary tile: the figure, the span it covers and its share of the year; below the threshold, says so. */
function tile(h: Headline, lang: Lang, timeZone: string): string {
  const sep = sepOf(lang);
  const lines = [
    `<div class="v">${esc(headlineValue(h, lang))}</div>`,
    `<div class="l">${esc(t(lang, HEADLINE_LABEL[h.key]))}</div>`,
    h.covered
      ? `<div class="s">${esc(`${t(lang, 'measuredSpan')} ${spanText(h.covered, lang, timeZone)} · ${pct(lang, h.coverage)} ${t(lang, 'coverageOfYear')}`)}</div>`
      : `<div class="s">${esc(t(lang, 'noMeasure'))}</div>`,
  ];
  if (h.partial && h.covered) lines.push(`<div class="w">${esc(t(lang, 'partial'))}</div>`);
  if (h.estimate) lines.push(`<div class="s">${esc(`${t(lang, 'estimate')}${sep}≈ ${headlineValue(h, lang, h.estimate.value)} (${h.estimate.method[lang]}).`)}</div>`);
  else if (h.noEstimate && h.covered) lines.push(`<div class="s">${esc(h.noEstimate[lang])}</div>`);
  return `<div class="card${h.partial ? ' partial' : ''}" data-headline="${h.key}">${lines.join('')}</div>`;
}

function buildingLabel(b: Pick<BuildingRow, 'site' | 'building'>, names: ReportNames): string {
  const site = siteName(names, b.site);
  return !b.building || b.building === b.site ? site : `${site} – ${b.building}`;
}

const missingOf = (series: readonly (readonly (number | null)[])[], months: number): boolean[] => Array.from({ length: months }, (_, i) => series.every((s) => s[i] === null || s[i] === undefined));
const partialOf = (values: readonly (readonly (number | null)[])[], coverage: readonly (readonly number[])[], months: number): boolean[] =>
  Array.from({ length: months }, (_, i) => values.some((s, k) => s[i] !== null && s[i] !== undefined && (coverage[k]?.[i] ?? 0) < COVERAGE_THRESHOLD));

function tertiaireBlock(b: BuildingRow, r: YearlyReport, lang: Lang): string {
  const tr = b.tertiaire!;
  const year = r.year;
  const verdict = !tr.complete ? `<span class="muted">${esc(t(lang, 'partialYear'))}</span>` : tr.onTrack ? `<span class="good">${esc(t(lang, 'onTrack'))}</span>` : `<span class="flag">${esc(t(lang, 'offTrack'))}</span>`;
  const rows = [
    [esc(t(lang, 'referenceYear')), String(tr.referenceYear)],
    [esc(t(lang, 'reference')), `${n(lang, tr.referenceKwh, 0)} kWh`],
    ...tr.targets.map((x) => [esc(`${t(lang, 'target')} ${x.year} (−${x.reduction * 100} %)`), `${n(lang, x.kwh, 0)} kWh`]),
    [esc(`${t(lang, 'path')} (${year})`), `${n(lang, tr.pathKwh, 0)} kWh`],
    [
      esc(`${t(lang, 'measured')} (${spanText(b.covered, lang, r.timeZone)})`),
      `${n(lang, tr.measuredKwh, 0)} kWh${tr.kwhPerM2 !== null ? ` (${n(lang, tr.kwhPerM2, 1)} kWh/m²)` : ''}`,
    ],
    [esc(t(lang, 'reduction')), tr.reductionPct === null ? '–' : `${n(lang, tr.reductionPct, 1)} %`],
    [esc(t(lang, 'verdict')), verdict],
  ];
  const label = buildingLabel(b, r.names);
  const chart = lineChart({
    name: `tertiaire-${b.site}-${b.building}`,
    title: `${t(lang, 'tertiaire')} – ${label}`,
    unit: 'kWh',
    lang,
    xTicks: [tr.referenceYear, ...tr.targets.map((x) => x.year)],
    series: [
      {
        name: t(lang, 'pathName'),
        color: CHART_COLORS.trajectory,
        dashed: true,
        points: [{ x: tr.referenceYear, y: tr.referenceKwh }, ...tr.targets.filter((x) => x.year > tr.referenceYear).map((x) => ({ x: x.year, y: x.kwh }))],
      },
      // A part of the year next to yearly targets would read as a success: only a complete year is drawn.
      ...(tr.complete ? [{ name: `${t(lang, 'measured')} ${year}`, color: CHART_COLORS.measured, markers: true, points: [{ x: year, y: tr.measuredKwh }] }] : []),
    ],
  });
  const note = tr.complete ? '' : `<p class="law">${esc(t(lang, 'notDrawn'))}</p>`;
  return `<h3>${esc(label)}</h3>${table([esc(t(lang, 'indicator')), esc(t(lang, 'value'))], rows, [1])}${chart}${note}`;
}

/** Configuration advice for the technical team: what is missing for the report to be complete. */
function advice(r: YearlyReport, lang: Lang): string[] {
  const out: string[] = [];
  const fr = lang === 'fr';
  if (!r.names.tenantNamed) {
    out.push(
      fr
        ? `Donner un nom à la collectivité : <code>tenants: - id: ${esc(r.tenant)}</code> avec <code>name: "…"</code> dans le fichier de configuration (VEILLEUR_CONFIG).`
        : `Name the organisation: <code>tenants: - id: ${esc(r.tenant)}</code> with <code>name: "…"</code> in the configuration file (VEILLEUR_CONFIG).`,
    );
  }
  for (const site of r.names.unnamedSites) {
    out.push(fr ? `Donner un nom au site <code>${esc(site)}</code> : <code>sites: - site: ${esc(site)}</code> avec <code>name: "…"</code>.` : `Name the site <code>${esc(site)}</code>: <code>sites: - site: ${esc(site)}</code> with <code>name: "…"</code>.`);
  }
  if (!r.energy.buildings.some((b) => b.tertiaire)) {
    out.push(
      (fr
        ? 'Pour suivre la trajectoire du décret tertiaire, déclarer la consommation de référence (celle déclarée sur OPERAT) de chaque bâtiment assujetti :'
        : 'To follow the décret tertiaire path, declare each building’s reference consumption (as declared on OPERAT):') +
        `<pre>reports:\n  tertiaire:\n${(r.energy.buildings.length ? r.energy.buildings : [{ site: 'site', building: 'site' }])
          .map((b) => `    - site: ${esc(b.site)}\n      building: ${esc(b.building || b.site)}\n      referenceYear: 2019\n      referenceKwh: 0      # ${fr ? 'à remplacer' : 'to replace'}\n      floorAreaM2: 0       # ${fr ? 'facultatif' : 'optional'}`)
          .join('\n')}</pre>`,
    );
  }
  for (const d of r.datacenters) {
    if (d.report.pueCategory === 'unknown') {
      out.push(
        (fr
          ? `Indiquer où est mesurée l’énergie informatique de la salle serveurs du site <code>${esc(d.site)}</code> (1 : sortie des onduleurs, 2 : sortie des unités de distribution, 3 : entrée des équipements) :`
          : `Say where the IT energy of the server room at <code>${esc(d.site)}</code> is measured (1: UPS output, 2: PDU output, 3: IT equipment input):`) +
          `<pre>reports:\n  datacenters:\n    - site: ${esc(d.site)}\n      category: 1</pre>`,
      );
    }
  }
  return out;
}

export function renderYearlyHtml(r: YearlyReport, lang: Lang = 'fr', opts: RenderOptions = {}): string {
  const names = r.names;
  const tenantName = names.tenant;
  const title = `${t(lang, 'yearlyTitle')} ${r.year} – ${tenantName}`;
  const months = monthLabels(r.months, lang);
  const sep = sepOf(lang);
  const tz = r.timeZone;
  const labels = deviceLabels(r.fleet.parsimony, names, lang);
  const parts: string[] = [];
  parts.push(`<h1>${esc(`${t(lang, 'yearlyTitle')} ${r.year}`)}</h1><p class="subtitle">${esc(tenantName)}</p>`);
  const lastDay = new Date(Date.parse(r.period.to) - 1).toISOString();
  parts.push(
    `<p class="meta">${esc(`${t(lang, 'calendarYear')} ${r.year} (${spanText({ from: r.period.from, to: lastDay }, lang, tz)})`)} · ${esc(t(lang, 'generated'))} ${esc(date(r.generatedAt, lang, tz))}</p>`,
  );
  if (r.measured.coverage < COVERAGE_THRESHOLD) {
    const text = r.measured.covered
      ? t(lang, 'partialBanner').replace('{span}', spanText(r.measured.covered, lang, tz)).replace('{pct}', pct(lang, r.measured.coverage)).replace('{year}', String(r.year))
      : t(lang, 'noMeasure');
    parts.push(`<div class="banner" role="note">${esc(text)}</div>`);
  }
  parts.push(`<p class="law">${esc(t(lang, 'law'))}</p>`);

  parts.push(`<h2>${esc(t(lang, 'summary'))}</h2><div class="cards">${r.headlines.map((h) => tile(h, lang, tz)).join('')}</div>`);

  // 1. Water
  parts.push(`<section id="water"><h2>1. ${esc(t(lang, 'water'))}</h2>`);
  if (r.water.sites.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noData'))}</p>`);
  else {
    const values = r.water.sites.map((s) => s.monthlyM3);
    parts.push(
      barChart({
        name: 'water',
        title: t(lang, 'monthlyWater'),
        categories: months,
        stacked: true,
        unit: 'm³',
        lang,
        series: r.water.sites.map((s, i) => ({ name: siteName(names, s.site), color: CHART_COLORS.water[i % CHART_COLORS.water.length]!, values: s.monthlyM3 })),
        missing: missingOf(values, months.length),
        partial: partialOf(values, r.water.sites.map((s) => s.monthlyCoverage), months.length),
        missingLabel: t(lang, 'missingMonth'),
        partialLabel: t(lang, 'partialMonth'),
      }),
    );
    parts.push(
      table(
        [t(lang, 'site'), t(lang, 'device'), `${t(lang, 'volume')} (m³)`, t(lang, 'readings'), t(lang, 'spanCol'), t(lang, 'coverage')].map(esc),
        r.water.meters.map((m) => [esc(siteName(names, m.site)), esc(roleLabel(m.role, lang)), n(lang, m.m3, 3), n(lang, m.readings, 0), esc(spanText(m.covered, lang, tz)), pct(lang, m.coverage)]),
        [2, 3, 5],
      ),
    );
  }
  parts.push(`<h3>${esc(t(lang, 'leaks'))}</h3>`);
  if (r.water.leaks.length === 0) parts.push(`<p>${esc(t(lang, 'noLeak'))}</p>`);
  else {
    parts.push(
      table(
        [t(lang, 'alertKind'), t(lang, 'site'), t(lang, 'device'), t(lang, 'start'), t(lang, 'end'), `${t(lang, 'duration')} (h)`, `${t(lang, 'excess')} (L/h)`, `${t(lang, 'loss')} (m³)`, t(lang, 'basis')].map(esc),
        r.water.leaks.map((l) => [
          esc(l.name[lang]),
          esc(siteName(names, l.site)),
          esc(l.role ? roleLabel(l.role, lang) : '–'),
          esc(dateTime(l.startedAt, lang, tz)),
          l.ongoing ? `<em>${esc(t(lang, 'ongoing'))}</em>` : esc(dateTime(l.endedAt, lang, tz)),
          n(lang, l.durationH, 1),
          n(lang, l.excessLPerH, 1),
          l.lossM3 === null ? `<em>${esc(t(lang, 'notEstimated'))}</em>` : n(lang, l.lossM3, 2),
          esc(l.basis[lang]),
        ]),
        [5, 6, 7],
      ),
    );
  }
  if (r.water.otherWaterAlerts.length) parts.push(`<p>${esc(t(lang, 'otherWater'))}${sep}${esc(r.water.otherWaterAlerts.map((o) => `${o.name[lang]} × ${o.count}`).join(', '))}</p>`);
  parts.push('</section>');

  // 2. Energy
  parts.push(`<section id="energy"><h2>2. ${esc(t(lang, 'energy'))}</h2>`);
  if (r.energy.buildings.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noData'))}</p>`);
  else {
    const values = r.energy.buildings.map((b) => b.monthlyKwh);
    parts.push(
      barChart({
        name: 'energy',
        title: t(lang, 'monthlyEnergy'),
        categories: months,
        stacked: true,
        unit: 'kWh',
        lang,
        series: r.energy.buildings.map((b, i) => ({ name: buildingLabel(b, names), color: CHART_COLORS.energy[i % CHART_COLORS.energy.length]!, values: b.monthlyKwh })),
        missing: missingOf(values, months.length),
        partial: partialOf(values, r.energy.buildings.map((b) => b.monthlyCoverage), months.length),
        missingLabel: t(lang, 'missingMonth'),
        partialLabel: t(lang, 'partialMonth'),
      }),
    );
    parts.push(
      table(
        [t(lang, 'building'), 'kWh', t(lang, 'spanCol'), t(lang, 'coverage'), t(lang, 'dju'), t(lang, 'djuDays'), t(lang, 'kwhPerDju')].map(esc),
        r.energy.buildings.map((b) => [
          esc(buildingLabel(b, names)),
          n(lang, b.kwh, 1),
          esc(spanText(b.covered, lang, tz)),
          pct(lang, b.coverage),
          b.dju === null ? `<span class="muted">${esc(t(lang, 'noOutdoor'))}</span>` : n(lang, b.dju, 1),
          n(lang, b.djuDays, 0),
          n(lang, b.kwhPerDju, 1),
        ]),
        [1, 3, 4, 5, 6],
      ),
    );
  }
  const withTarget = r.energy.buildings.filter((b) => b.tertiaire);
  parts.push(`<h3>${esc(t(lang, 'tertiaire'))}</h3>`);
  if (withTarget.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noTertiaire'))}</p>`);
  else for (const b of withTarget) parts.push(tertiaireBlock(b, r, lang));
  parts.push('</section>');

  // 3. Server rooms
  parts.push(`<section id="datacenter"><h2>3. ${esc(t(lang, 'datacenter'))}</h2>`);
  if (r.datacenters.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noData'))}</p>`);
  for (const d of r.datacenters) {
    const rep = d.report;
    const room = `${t(lang, 'serverRoom')} – ${siteName(names, d.site)}`;
    parts.push(`<h3>${esc(room)}</h3>`);
    parts.push(`<p class="law">${esc(`${t(lang, 'measuredSpan')} ${spanText(d.covered, lang, tz)} · ${pct(lang, d.coverage)} ${t(lang, 'coverageOfYear')}`)}</p>`);
    const factor = `${n(lang, rep.emissionFactor.kgCo2ePerKwh, 4)} kgCO₂e/kWh (ADEME, ${rep.emissionFactor.vintage})`;
    parts.push(
      table(
        [t(lang, 'facility'), t(lang, 'it'), t(lang, 'pueShort'), t(lang, 'dcie'), `${t(lang, 'carbon')} (kgCO₂e)`, t(lang, 'factor'), t(lang, 'category')].map(esc),
        [
          [
            `${n(lang, rep.energyKwh.total, 1)} kWh`,
            `${n(lang, rep.energyKwh.it, 1)} kWh`,
            n(lang, rep.pue, 2),
            rep.dcie === null ? '–' : `${n(lang, rep.dcie, 1)} %`,
            n(lang, rep.kgCo2e.total, 1),
            esc(factor),
            esc((PUE_CATEGORY_TEXT[rep.pueCategory] ?? PUE_CATEGORY_TEXT.unknown!)[lang]),
          ],
        ],
        [0, 1, 2, 3, 4],
      ),
    );
    const values = [d.monthly.map((m) => m.facilityKwh), d.monthly.map((m) => m.itKwh)];
    parts.push(
      barChart({
        name: `datacenter-${d.site}`,
        title: `${t(lang, 'monthlyDc')} – ${room}`,
        categories: months,
        unit: 'kWh',
        lang,
        series: [
          { name: t(lang, 'facility'), color: CHART_COLORS.facility, values: values[0]! },
          { name: t(lang, 'it'), color: CHART_COLORS.it, values: values[1]! },
        ],
        missing: missingOf(values, months.length),
        missingLabel: t(lang, 'missingMonth'),
      }),
    );
  }
  parts.push('</section>');

  // 4. Fleet and platform
  parts.push(`<section id="fleet"><h2>4. ${esc(t(lang, 'fleet'))}</h2><div class="cards">`);
  parts.push(card(n(lang, r.fleet.devices, 0), t(lang, 'devices')));
  parts.push(card(n(lang, r.fleet.uplinks, 0), t(lang, 'uplinks')));
  parts.push(card(`${n(lang, r.fleet.airtimeS, 0)} s`, t(lang, 'airtimeTotal')));
  parts.push(card(`${n(lang, r.fleet.radioEnergyWh, 2)} Wh`, t(lang, 'radioEnergy')));
  parts.push(card(n(lang, r.fleet.flagged, 0), t(lang, 'flagged')));
  parts.push('</div>');
  parts.push(airtimeChart(r.fleet.parsimony, labels, lang));
  parts.push(fleetTable(r.fleet.parsimony, labels, lang));
  parts.push(`<h3>${esc(t(lang, 'storage'))}</h3>`);
  parts.push(
    table(
      [t(lang, 'dataKind'), t(lang, 'points'), t(lang, 'values'), t(lang, 'size')].map(esc),
      [
        ...r.storage.measurements.map((m) => [esc((DATA_KINDS[m.measurement] ?? { fr: 'Autres données', en: 'Other data' })[lang]), n(lang, m.points, 0), n(lang, m.values, 0), esc(bytes(lang, m.bytes))]),
        [`<strong>${esc(t(lang, 'total'))}</strong>`, n(lang, r.storage.points, 0), n(lang, r.storage.values, 0), `<strong>${esc(bytes(lang, r.storage.bytes))}</strong>`],
      ],
      [1, 2, 3],
    ),
  );
  parts.push('</section>');

  // 5. Methods, 6. Glossary
  parts.push(`<section id="method"><h2>5. ${esc(t(lang, 'method'))}</h2><ul>${r.assumptions.map((a) => `<li>${esc(a[lang])}</li>`).join('')}</ul>`);
  parts.push('</section>');
  parts.push(`<section id="glossary"><h2>6. ${esc(t(lang, 'glossary'))}</h2><dl>${GLOSSARY.map((g) => `<dt>${esc(g.term)}</dt><dd>${esc(g.text[lang])}</dd>`).join('')}</dl></section>`);

  // Technical appendix: identifiers, device configuration, settings to make, warnings.
  parts.push(`<section id="annexe" class="appendix"><h2>${esc(t(lang, 'appendix'))}</h2><p class="law">${esc(t(lang, 'appendixIntro'))}</p>`);
  const siteIds = [...new Set([...Object.keys(names.sites), ...names.unnamedSites])].sort();
  parts.push(`<h3>${esc(t(lang, 'identifiers'))}</h3>`);
  parts.push(
    table(
      [t(lang, 'name'), t(lang, 'identifier')].map(esc),
      [[esc(tenantName), `<code>${esc(r.tenant)}</code>`], ...siteIds.map((s) => [esc(siteName(names, s)), `<code>${esc(s)}</code>`])],
    ),
  );
  parts.push(`<p class="law">${esc(`${t(lang, 'timeZone')}${sep}${tz}`)}</p>`);
  parts.push(`<h3>${esc(t(lang, 'devicesTech'))}</h3>`);
  parts.push(technicalDeviceTable(r.fleet.parsimony, labels, lang));
  parts.push(needsTable(lang));
  const tips = advice(r, lang);
  parts.push(`<h3>${esc(t(lang, 'advice'))}</h3>${tips.length ? `<ul>${tips.map((x) => `<li>${x}</li>`).join('')}</ul>` : `<p>${esc(t(lang, 'noAdvice'))}</p>`}`);
  const warnings = [...r.warnings.map((w) => w[lang]), ...r.datacenters.flatMap((d) => d.warnings.map((w) => `${t(lang, 'serverRoom')} – ${siteName(names, d.site)}${sep}${w[lang]}`))];
  if (warnings.length) parts.push(`<h3>${esc(t(lang, 'warnings'))}</h3><ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  parts.push('</section>');
  return page(lang, title, parts.join(''), opts);
}
