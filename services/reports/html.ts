/**
 * The reports as one self-contained HTML file (French by default, English on request): inline CSS, inline SVG
 * charts (svg.ts), no script and nothing fetched, so it opens offline, prints, and can be archived with the
 * council's minutes as it is.
 */
import { formatNumber, type Lang, type Text } from './common.ts';
import { type ParsimonyDevice, type ParsimonyFlag, type ParsimonyReport, REPORTING_NEEDS, BATTERY_MODEL } from './parsimony.ts';
import { barChart, CHART_COLORS, escapeXml as esc, hBarChart, lineChart } from './svg.ts';
import type { BuildingRow, YearlyReport } from './yearly.ts';

const T = {
  yearlyTitle: { fr: 'Revue annuelle de la stratégie numérique responsable', en: 'Responsible-digital strategy: annual review' },
  parsimonyTitle: { fr: 'Sobriété radio des capteurs', en: 'Sensor radio parsimony' },
  tenant: { fr: 'Collectivité', en: 'Organisation' },
  period: { fr: 'Période', en: 'Period' },
  timeZone: { fr: 'Fuseau horaire', en: 'Time zone' },
  generated: { fr: 'Établi le', en: 'Generated on' },
  law: {
    fr: 'Loi REEN n° 2021-1485, art. 35 : stratégie numérique responsable des communes et EPCI, bilan annuel. Chiffres mesurés par Veilleur (capteurs LoRaWAN) ; méthodes et hypothèses en fin de document.',
    en: 'Loi REEN 2021-1485, art. 35: responsible-digital strategy of French communes, reviewed every year. Figures measured by Veilleur (LoRaWAN sensors); methods and assumptions at the end.',
  },
  summary: { fr: 'En bref', en: 'At a glance' },
  water: { fr: 'Eau', en: 'Water' },
  energy: { fr: 'Énergie des bâtiments', en: 'Building energy' },
  datacenter: { fr: 'Salles serveurs', en: 'Server rooms' },
  fleet: { fr: 'Parc de capteurs et empreinte de la plateforme', en: 'Sensor fleet and platform footprint' },
  method: { fr: 'Méthodes et hypothèses', en: 'Methods and assumptions' },
  warnings: { fr: 'Avertissements', en: 'Warnings' },
  waterVolume: { fr: 'Eau consommée', en: 'Water used' },
  leaks: { fr: 'Fuites détectées', en: 'Leaks detected' },
  leakLoss: { fr: 'Pertes estimées', en: 'Estimated losses' },
  buildingEnergy: { fr: 'Énergie des bâtiments', en: 'Building energy' },
  pue: { fr: 'PUE', en: 'PUE' },
  devices: { fr: 'Capteurs actifs', en: 'Active sensors' },
  uplinks: { fr: 'Messages radio', en: 'Uplinks' },
  stored: { fr: 'Données stockées (estimation)', en: 'Data stored (estimate)' },
  monthlyWater: { fr: 'Eau consommée par mois et par site', en: 'Water used per month and site' },
  monthlyEnergy: { fr: 'Énergie par mois et par bâtiment', en: 'Energy per month and building' },
  site: { fr: 'Site', en: 'Site' },
  building: { fr: 'Bâtiment', en: 'Building' },
  device: { fr: 'Capteur', en: 'Device' },
  role: { fr: 'Rôle', en: 'Role' },
  volume: { fr: 'Volume', en: 'Volume' },
  inflow: { fr: 'Entrée de secteur', en: 'District inflow' },
  coverage: { fr: 'Couverture', en: 'Coverage' },
  readings: { fr: 'Relevés', en: 'Readings' },
  rule: { fr: 'Règle', en: 'Rule' },
  start: { fr: 'Début', en: 'Start' },
  end: { fr: 'Fin', en: 'End' },
  ongoing: { fr: 'en cours', en: 'ongoing' },
  duration: { fr: 'Durée', en: 'Duration' },
  excess: { fr: 'Débit excédentaire', en: 'Excess flow' },
  loss: { fr: 'Perte estimée', en: 'Estimated loss' },
  basis: { fr: 'Estimation', en: 'Estimate' },
  noLeak: { fr: 'Aucune fuite détectée cette année.', en: 'No leak detected this year.' },
  otherWater: { fr: 'Autres alertes eau (hors fuites)', en: 'Other water alerts (not leaks)' },
  notEstimated: { fr: 'non estimé', en: 'not estimated' },
  dju: { fr: 'DJU (base 18 °C)', en: 'Degree-days (base 18 °C)' },
  djuDays: { fr: 'Jours mesurés', en: 'Days measured' },
  kwhPerDju: { fr: 'kWh/DJU', en: 'kWh/DD' },
  noOutdoor: { fr: 'pas de capteur extérieur', en: 'no outdoor sensor' },
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
  incomplete: { fr: 'année incomplète', en: 'incomplete year' },
  indicator: { fr: 'Indicateur', en: 'Indicator' },
  value: { fr: 'Valeur', en: 'Value' },
  noTertiaire: {
    fr: 'Aucun bâtiment n’a de consommation de référence configurée. Pour suivre la trajectoire, ajouter dans VEILLEUR_CONFIG : reports: { tertiaire: [{ site, building, referenceYear, referenceKwh }] }.',
    en: 'No building has a configured reference consumption. To follow the path, add to VEILLEUR_CONFIG: reports: { tertiaire: [{ site, building, referenceYear, referenceKwh }] }.',
  },
  target: { fr: 'Objectif', en: 'Target' },
  noData: { fr: 'Aucune donnée pour cette année.', en: 'No data for this year.' },
  facility: { fr: 'Total salle', en: 'Facility total' },
  it: { fr: 'Informatique', en: 'IT' },
  dcie: { fr: 'DCiE', en: 'DCiE' },
  carbon: { fr: 'Carbone', en: 'Carbon' },
  factor: { fr: 'Facteur d’émission', en: 'Emission factor' },
  category: { fr: 'Catégorie de mesure', en: 'Measurement category' },
  monthlyDc: { fr: 'Énergie par mois', en: 'Energy per month' },
  airtimeChart: { fr: 'Temps d’antenne par jour et par capteur', en: 'Time on air per day and device' },
  budget: { fr: 'budget 30 s/jour', en: '30 s/day budget' },
  uplinksPerDay: { fr: 'Messages/jour', en: 'Uplinks/day' },
  needed: { fr: 'Besoin des règles', en: 'Rules need' },
  airtimePerDay: { fr: 'Antenne s/jour', en: 'Airtime s/day' },
  battery: { fr: 'Pile (ans)', en: 'Battery (years)' },
  batteryAtNeed: { fr: 'Pile à l’intervalle le plus large', en: 'Battery at the widest interval' },
  flags: { fr: 'Constat', en: 'Finding' },
  ok: { fr: 'sobre', en: 'parsimonious' },
  needsTable: { fr: 'Intervalles dont les règles ont besoin', en: 'Reporting intervals the rules need' },
  interval: { fr: 'Intervalle', en: 'Interval' },
  rules: { fr: 'Règles', en: 'Rules' },
  why: { fr: 'Pourquoi', en: 'Why' },
  storage: { fr: 'Données stockées', en: 'Data stored' },
  measurement: { fr: 'Mesure', en: 'Measurement' },
  points: { fr: 'Points', en: 'Points' },
  values: { fr: 'Valeurs', en: 'Values' },
  size: { fr: 'Taille estimée', en: 'Estimated size' },
  total: { fr: 'Total', en: 'Total' },
  radioEnergy: { fr: 'Énergie radio des capteurs', en: 'Sensors’ radio energy' },
  airtimeTotal: { fr: 'Temps d’antenne total', en: 'Total time on air' },
  flagged: { fr: 'Capteurs à revoir', en: 'Devices to review' },
  batteryModel: { fr: 'Modèle de pile', en: 'Battery model' },
  heartbeat: { fr: 'battement + événement', en: 'heartbeat + event' },
} satisfies Record<string, Text>;

const FLAG_TEXT: Record<ParsimonyFlag, Text> = {
  'over-reporting': { fr: 'trop fréquent', en: 'over-reporting' },
  'under-reporting': { fr: 'trop rare pour ses règles', en: 'too sparse for its rules' },
  'airtime-over-budget': { fr: '> 30 s/jour d’antenne', en: '> 30 s/day on air' },
  'unknown-role': { fr: 'rôle inconnu', en: 'unknown role' },
};

// Text colours are none of the chart colours (svg.ts CHART_COLORS): a chart is recognisable by its colours alone.
const STYLE = `
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",Arial,sans-serif;color:#212529;margin:0;background:#fff;line-height:1.4}
main{max-width:1000px;margin:0 auto;padding:24px}h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #dee2e6;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}p.meta{color:#495057;margin:2px 0}.law{font-size:13px;color:#495057}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid #dee2e6;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:20px;font-weight:600}.card .l{font-size:12px;color:#495057}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:8px 0}th,td{border-bottom:1px solid #e9ecef;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f8f9fa}td.n{text-align:right;white-space:nowrap}.flag{color:#a61e1e;font-weight:600}.good{color:#1f6b31}.muted{color:#6c757d}
svg.chart{display:block;margin:10px 0;max-width:100%;height:auto}.chart-title{font-size:13px;font-weight:600}ul{padding-left:20px}li{margin:4px 0;font-size:13px}
@media print{main{padding:0}h2{break-after:avoid}svg.chart,table{break-inside:avoid}}
`;

const t = (lang: Lang, key: keyof typeof T) => T[key][lang];
const n = formatNumber;

function monthLabels(months: readonly string[], lang: Lang): string[] {
  const f = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { month: 'short', timeZone: 'UTC' });
  return months.map((m) => f.format(new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 15))));
}

function dateTime(iso: string | null, lang: Lang, timeZone: string): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

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

function page(lang: Lang, title: string, body: string): string {
  return `<!doctype html>\n<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>\n`;
}

function flagsCell(d: ParsimonyDevice, lang: Lang): string {
  const real = d.flags.filter((f) => f !== 'unknown-role');
  if (real.length === 0) return d.flags.length ? `<span class="muted">${esc(FLAG_TEXT['unknown-role'][lang])}</span>` : `<span class="good">${esc(t(lang, 'ok'))}</span>`;
  return `<span class="flag">${real.map((f) => esc(FLAG_TEXT[f][lang])).join(', ')}</span>`;
}

function needCell(d: ParsimonyDevice, lang: Lang): string {
  if (!d.need) return '–';
  const range = `${n(lang, d.need.finestMin, 0)}–${n(lang, d.need.coarsestMin, 0)} min`;
  const perDay = lang === 'fr' ? '/j' : '/day';
  return esc(`${range}${d.need.heartbeat ? ` (${t(lang, 'heartbeat')})` : ''}, ≤ ${n(lang, d.need.neededUplinksPerDay, 0)}${perDay}`);
}

/** The per-device parsimony table, the airtime chart and the needs table (shared by both reports). */
function parsimonySection(devices: readonly ParsimonyDevice[], lang: Lang): string {
  const chart = hBarChart({
    name: 'airtime',
    title: t(lang, 'airtimeChart'),
    items: devices.map((d) => ({ label: d.device || d.devEui, value: d.airtimeSPerDay, color: d.flags.includes('airtime-over-budget') ? CHART_COLORS.budget : CHART_COLORS.airtime })),
    unit: lang === 'fr' ? 's/jour' : 's/day',
    lang,
    reference: { value: 30, label: t(lang, 'budget'), color: CHART_COLORS.budget },
  });
  const rows = devices.map((d) => [
    esc(d.site),
    esc(d.device || d.devEui),
    esc(d.role ?? '–'),
    n(lang, d.uplinksPerDay, 1),
    needCell(d, lang),
    n(lang, d.airtimeSPerDay, 2),
    d.spreadingFactor === null ? '–' : `SF${d.spreadingFactor}`,
    n(lang, d.battery?.years, 1),
    n(lang, d.battery?.yearsAtCoarsest, 1),
    flagsCell(d, lang),
  ]);
  const needs = Object.entries(REPORTING_NEEDS).map(([role, need]) => [
    esc(role),
    esc(`${need.finestMin}–${need.coarsestMin} min${need.heartbeat ? ` (${t(lang, 'heartbeat')})` : ''}`),
    esc(need.rules.join(', ')),
    esc(need.reason[lang]),
  ]);
  return (
    chart +
    table(
      [t(lang, 'site'), t(lang, 'device'), t(lang, 'role'), t(lang, 'uplinksPerDay'), t(lang, 'needed'), t(lang, 'airtimePerDay'), 'SF', t(lang, 'battery'), t(lang, 'batteryAtNeed'), t(lang, 'flags')].map(esc),
      rows,
      [3, 5, 7, 8],
    ) +
    `<h3>${esc(t(lang, 'needsTable'))}</h3>` +
    table([t(lang, 'role'), t(lang, 'interval'), t(lang, 'rules'), t(lang, 'why')].map(esc), needs)
  );
}

function batteryModelText(lang: Lang): string {
  const m = BATTERY_MODEL;
  return lang === 'fr'
    ? `Charge par message = temps d’antenne × ${m.txCurrentMa} mA + ${m.rxWindowMs} ms × ${m.rxCurrentMa} mA ; veille ${m.sleepCurrentMa * 1000} µA ; autodécharge ${m.selfDischargePerYear * 100} %/an ; pile Li-SOCl2 AA ${m.capacityMah / 1000} Ah / ${m.voltageV} V, ${m.usableFraction * 100} % utilisables. Part radio seulement (mesures du capteur non comptées).`
    : `Charge per uplink = airtime × ${m.txCurrentMa} mA + ${m.rxWindowMs} ms × ${m.rxCurrentMa} mA; ${m.sleepCurrentMa * 1000} µA sleep; ${m.selfDischargePerYear * 100} %/year self-discharge; Li-SOCl2 AA cell ${m.capacityMah / 1000} Ah / ${m.voltageV} V, ${m.usableFraction * 100} % usable. Radio share only (the sensor's own measurements not counted).`;
}

export function renderParsimonyHtml(r: ParsimonyReport, lang: Lang = 'fr'): string {
  const title = `${t(lang, 'parsimonyTitle')} – ${r.tenant}`;
  const body =
    `<h1>${esc(title)}</h1>` +
    `<p class="meta">${esc(t(lang, 'period'))}${lang === 'fr' ? ' : ' : ': '}${esc(r.period.from)} → ${esc(r.period.to)} (${n(lang, r.period.days, 2)} ${lang === 'fr' ? 'j' : 'd'})</p>` +
    `<div class="cards">${card(n(lang, r.totals.devices, 0), t(lang, 'devices'))}${card(n(lang, r.totals.uplinksPerDay, 0), t(lang, 'uplinksPerDay'))}${card(`${n(lang, r.totals.airtimeSPerDay, 1)} s`, t(lang, 'airtimePerDay'))}${card(n(lang, r.totals.flagged, 0), t(lang, 'flagged'))}</div>` +
    parsimonySection(r.devices, lang) +
    `<h3>${esc(t(lang, 'batteryModel'))}</h3><p class="law">${esc(batteryModelText(lang))}</p>` +
    (r.warnings.length ? `<h3>${esc(t(lang, 'warnings'))}</h3><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '');
  return page(lang, title, body);
}

function tertiaireBlock(b: BuildingRow, year: number, lang: Lang): string {
  const tr = b.tertiaire!;
  const verdict = !tr.complete ? `<span class="muted">${esc(t(lang, 'partialYear'))}</span>` : tr.onTrack ? `<span class="good">${esc(t(lang, 'onTrack'))}</span>` : `<span class="flag">${esc(t(lang, 'offTrack'))}</span>`;
  const rows = [
    [esc(t(lang, 'referenceYear')), String(tr.referenceYear)],
    [esc(t(lang, 'reference')), `${n(lang, tr.referenceKwh, 0)} kWh`],
    ...tr.targets.map((x) => [esc(`${t(lang, 'target')} ${x.year} (−${x.reduction * 100} %)`), `${n(lang, x.kwh, 0)} kWh`]),
    [esc(`${t(lang, 'path')} (${year})`), `${n(lang, tr.pathKwh, 0)} kWh`],
    [esc(`${t(lang, 'measured')} (${year})`), `${n(lang, tr.measuredKwh, 0)} kWh${tr.kwhPerM2 !== null ? ` (${n(lang, tr.kwhPerM2, 1)} kWh/m²)` : ''}`],
    [esc(t(lang, 'reduction')), tr.reductionPct === null ? '–' : `${n(lang, tr.reductionPct, 1)} %`],
    [esc(t(lang, 'verdict')), verdict],
  ];
  const chart = lineChart({
    name: `tertiaire-${b.site}-${b.building}`,
    title: `${t(lang, 'tertiaire')} – ${b.building}`,
    unit: 'kWh',
    lang,
    xTicks: [tr.referenceYear, ...tr.targets.map((x) => x.year)],
    series: [
      {
        name: lang === 'fr' ? 'Trajectoire' : 'Path',
        color: CHART_COLORS.trajectory,
        dashed: true,
        points: [{ x: tr.referenceYear, y: tr.referenceKwh }, ...tr.targets.filter((x) => x.year > tr.referenceYear).map((x) => ({ x: x.year, y: x.kwh }))],
      },
      { name: `${t(lang, 'measured')} ${year}${tr.complete ? '' : ` (${t(lang, 'incomplete')})`}`, color: CHART_COLORS.measured, markers: true, points: [{ x: year, y: tr.measuredKwh }] },
    ],
  });
  return `<h3>${esc(`${b.site} / ${b.building}`)}</h3>${table([esc(t(lang, 'indicator')), esc(t(lang, 'value'))], rows, [1])}${chart}`;
}

export function renderYearlyHtml(r: YearlyReport, lang: Lang = 'fr'): string {
  const title = `${t(lang, 'yearlyTitle')} ${r.year} – ${r.tenant}`;
  const months = monthLabels(r.months, lang);
  const pct = (x: number) => `${n(lang, x * 100, 0)} %`;
  const sep = lang === 'fr' ? ' : ' : ': ';
  const parts: string[] = [];
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(`<p class="meta">${esc(t(lang, 'tenant'))}${sep}<strong>${esc(r.tenant)}</strong> · ${esc(t(lang, 'period'))}${sep}${esc(dateTime(r.period.from, lang, r.timeZone))} → ${esc(dateTime(r.period.to, lang, r.timeZone))} · ${esc(t(lang, 'timeZone'))}${sep}${esc(r.timeZone)} · ${esc(t(lang, 'generated'))} ${esc(dateTime(r.generatedAt, lang, r.timeZone))}</p>`);
  parts.push(`<p class="law">${esc(t(lang, 'law'))}</p>`);

  const mainPue = r.datacenters.find((d) => d.report.pue !== null)?.report.pue ?? null;
  parts.push(`<h2>${esc(t(lang, 'summary'))}</h2><div class="cards">`);
  parts.push(card(`${n(lang, r.water.totalM3, 1)} m³`, t(lang, 'waterVolume')));
  parts.push(card(n(lang, r.water.leaks.length, 0), t(lang, 'leaks')));
  parts.push(card(`${n(lang, r.water.leakLossM3, 2)} m³`, t(lang, 'leakLoss')));
  parts.push(card(`${n(lang, r.energy.totalKwh, 0)} kWh`, t(lang, 'buildingEnergy')));
  parts.push(card(n(lang, mainPue, 2), t(lang, 'pue')));
  parts.push(card(n(lang, r.fleet.devices, 0), t(lang, 'devices')));
  parts.push(card(n(lang, r.fleet.uplinks, 0), t(lang, 'uplinks')));
  parts.push(card(esc(bytes(lang, r.storage.bytes)), t(lang, 'stored')));
  parts.push('</div>');

  // 1. Water
  parts.push(`<section id="water"><h2>1. ${esc(t(lang, 'water'))}</h2>`);
  if (r.water.sites.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noData'))}</p>`);
  else {
    parts.push(
      barChart({
        name: 'water',
        title: t(lang, 'monthlyWater'),
        categories: months,
        stacked: true,
        unit: 'm³',
        lang,
        series: r.water.sites.map((s, i) => ({ name: s.site, color: CHART_COLORS.water[i % CHART_COLORS.water.length]!, values: s.monthlyM3 })),
      }),
    );
    parts.push(
      table(
        [t(lang, 'site'), t(lang, 'device'), t(lang, 'role'), `${t(lang, 'volume')} (m³)`, t(lang, 'readings'), t(lang, 'coverage')].map(esc),
        r.water.meters.map((m) => [esc(m.site), esc(m.device || m.devEui), esc(m.role), n(lang, m.m3, 3), n(lang, m.readings, 0), pct(m.coverage)]),
        [3, 4, 5],
      ),
    );
  }
  parts.push(`<h3>${esc(t(lang, 'leaks'))}</h3>`);
  if (r.water.leaks.length === 0) parts.push(`<p>${esc(t(lang, 'noLeak'))}</p>`);
  else {
    parts.push(
      table(
        [t(lang, 'rule'), t(lang, 'site'), t(lang, 'device'), t(lang, 'start'), t(lang, 'end'), `${t(lang, 'duration')} (h)`, `${t(lang, 'excess')} (L/h)`, `${t(lang, 'loss')} (m³)`, t(lang, 'basis')].map(esc),
        r.water.leaks.map((l) => [
          esc(l.rule),
          esc(l.site),
          esc(l.device ?? '–'),
          esc(dateTime(l.startedAt, lang, r.timeZone)),
          l.ongoing ? `<em>${esc(t(lang, 'ongoing'))}</em>` : esc(dateTime(l.endedAt, lang, r.timeZone)),
          n(lang, l.durationH, 1),
          n(lang, l.excessLPerH, 1),
          l.lossM3 === null ? `<em>${esc(t(lang, 'notEstimated'))}</em>` : n(lang, l.lossM3, 2),
          esc(l.basis[lang]),
        ]),
        [5, 6, 7],
      ),
    );
  }
  if (r.water.otherWaterAlerts.length) parts.push(`<p>${esc(t(lang, 'otherWater'))}${sep}${esc(r.water.otherWaterAlerts.map((o) => `${o.rule} × ${o.count}`).join(', '))}</p>`);
  parts.push('</section>');

  // 2. Energy
  parts.push(`<section id="energy"><h2>2. ${esc(t(lang, 'energy'))}</h2>`);
  if (r.energy.buildings.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noData'))}</p>`);
  else {
    parts.push(
      barChart({
        name: 'energy',
        title: t(lang, 'monthlyEnergy'),
        categories: months,
        stacked: true,
        unit: 'kWh',
        lang,
        series: r.energy.buildings.map((b, i) => ({ name: b.building === b.site ? b.site : `${b.site}/${b.building}`, color: CHART_COLORS.energy[i % CHART_COLORS.energy.length]!, values: b.monthlyKwh })),
      }),
    );
    parts.push(
      table(
        [t(lang, 'site'), t(lang, 'building'), 'kWh', t(lang, 'coverage'), t(lang, 'dju'), t(lang, 'djuDays'), t(lang, 'kwhPerDju')].map(esc),
        r.energy.buildings.map((b) => [
          esc(b.site),
          esc(b.building),
          n(lang, b.kwh, 1),
          pct(b.coverage),
          b.dju === null ? `<span class="muted">${esc(t(lang, 'noOutdoor'))}</span>` : n(lang, b.dju, 1),
          n(lang, b.djuDays, 0),
          n(lang, b.kwhPerDju, 1),
        ]),
        [2, 3, 4, 5, 6],
      ),
    );
  }
  const withTarget = r.energy.buildings.filter((b) => b.tertiaire);
  parts.push(`<h3>${esc(t(lang, 'tertiaire'))}</h3>`);
  if (withTarget.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noTertiaire'))}</p>`);
  else for (const b of withTarget) parts.push(tertiaireBlock(b, r.year, lang));
  parts.push('</section>');

  // 3. Server rooms
  parts.push(`<section id="datacenter"><h2>3. ${esc(t(lang, 'datacenter'))}</h2>`);
  if (r.datacenters.length === 0) parts.push(`<p class="muted">${esc(t(lang, 'noData'))}</p>`);
  for (const d of r.datacenters) {
    const rep = d.report;
    parts.push(`<h3>${esc(d.site)}</h3>`);
    parts.push(
      table(
        [t(lang, 'facility'), t(lang, 'it'), t(lang, 'pue'), t(lang, 'dcie'), `${t(lang, 'carbon')} (kgCO₂e)`, t(lang, 'factor'), t(lang, 'category')].map(esc),
        [
          [
            `${n(lang, rep.energyKwh.total, 1)} kWh`,
            `${n(lang, rep.energyKwh.it, 1)} kWh`,
            n(lang, rep.pue, 2),
            rep.dcie === null ? '–' : `${n(lang, rep.dcie, 1)} %`,
            n(lang, rep.kgCo2e.total, 1),
            esc(`${rep.emissionFactor.kgCo2ePerKwh} kgCO₂e/kWh (${rep.emissionFactor.id})`),
            esc(rep.pueCategory),
          ],
        ],
        [0, 1, 2, 3, 4],
      ),
    );
    parts.push(
      barChart({
        name: `datacenter-${d.site}`,
        title: `${t(lang, 'monthlyDc')} – ${d.site}`,
        categories: months,
        unit: 'kWh',
        lang,
        series: [
          { name: t(lang, 'facility'), color: CHART_COLORS.facility, values: d.monthly.map((m) => m.facilityKwh) },
          { name: t(lang, 'it'), color: CHART_COLORS.it, values: d.monthly.map((m) => m.itKwh) },
        ],
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
  parts.push(parsimonySection(r.fleet.parsimony, lang));
  parts.push(`<h3>${esc(t(lang, 'storage'))}</h3>`);
  parts.push(
    table(
      [t(lang, 'measurement'), t(lang, 'points'), t(lang, 'values'), t(lang, 'size')].map(esc),
      [
        ...r.storage.measurements.map((m) => [esc(m.measurement), n(lang, m.points, 0), n(lang, m.values, 0), esc(bytes(lang, m.bytes))]),
        [`<strong>${esc(t(lang, 'total'))}</strong>`, n(lang, r.storage.points, 0), n(lang, r.storage.values, 0), `<strong>${esc(bytes(lang, r.storage.bytes))}</strong>`],
      ],
      [1, 2, 3],
    ),
  );
  parts.push('</section>');

  // 5. Methods
  parts.push(`<section id="method"><h2>5. ${esc(t(lang, 'method'))}</h2><ul>${r.assumptions.map((a) => `<li>${esc(a[lang])}</li>`).join('')}</ul>`);
  if (r.warnings.length) parts.push(`<h3>${esc(t(lang, 'warnings'))}</h3><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  parts.push('</section>');
  return page(lang, title, parts.join(''));
}
