/**
 * The reports as CSV (written by services/csv.ts: RFC 4180, formulas defused). Columns are documented in
 * docs/reports.md; the unit tests check that the document and these constants agree.
 */
import { toCsv, type CsvCell } from '../csv.ts';
import type { Lang } from './common.ts';
import type { ParsimonyReport } from './parsimony.ts';
import type { YearlyReport } from './yearly.ts';

export const PARSIMONY_CSV_COLUMNS = [
  'tenant',
  'site',
  'dev_eui',
  'device',
  'role',
  'period_from',
  'period_to',
  'days',
  'uplinks',
  'uplinks_per_day',
  'max_uplinks_per_day',
  'finest_interval_min',
  'coarsest_interval_min',
  'needed_uplinks_per_day',
  'over_report_factor',
  'airtime_s_per_day',
  'max_airtime_s_per_day',
  'airtime_ms_per_uplink',
  'airtime_source',
  'mean_size_bytes',
  'spreading_factor',
  'tx_energy_per_uplink_mj',
  'battery_mah_per_year',
  'battery_years',
  'battery_years_at_coarsest',
  'flags',
] as const;

export const YEARLY_CSV_COLUMNS = ['tenant', 'year', 'section', 'site', 'building', 'device', 'dev_eui', 'role', 'measurement', 'metric', 'period', 'value', 'unit', 'note'] as const;

export function parsimonyCsv(r: ParsimonyReport): string {
  return toCsv(
    PARSIMONY_CSV_COLUMNS,
    r.devices.map((d) => ({
      tenant: d.tenant,
      site: d.site,
      dev_eui: d.devEui,
      device: d.device,
      role: d.role,
      period_from: r.period.from,
      period_to: r.period.to,
      days: d.days,
      uplinks: d.uplinks,
      uplinks_per_day: d.uplinksPerDay,
      max_uplinks_per_day: d.maxUplinksPerDay,
      finest_interval_min: d.need?.finestMin,
      coarsest_interval_min: d.need?.coarsestMin,
      needed_uplinks_per_day: d.need?.neededUplinksPerDay,
      over_report_factor: d.overReportFactor,
      airtime_s_per_day: d.airtimeSPerDay,
      max_airtime_s_per_day: d.maxAirtimeSPerDay,
      airtime_ms_per_uplink: d.airtimeMsPerUplink,
      airtime_source: d.airtimeSource,
      mean_size_bytes: d.meanSizeBytes,
      spreading_factor: d.spreadingFactor,
      tx_energy_per_uplink_mj: d.battery?.txEnergyPerUplinkMj,
      battery_mah_per_year: d.battery?.mahPerYear,
      battery_years: d.battery?.years,
      battery_years_at_coarsest: d.battery?.yearsAtCoarsest,
      flags: d.flags.join(';'),
    })),
  );
}

type YearlyRow = Partial<Record<(typeof YEARLY_CSV_COLUMNS)[number], CsvCell>>;

/** The yearly report as one long table: a row per figure, each carrying its section, subject, period and unit. */
export function yearlyCsv(r: YearlyReport, lang: Lang = 'fr'): string {
  const rows: YearlyRow[] = [];
  const year = String(r.year);
  const push = (row: YearlyRow) => rows.push({ tenant: r.tenant, year: r.year, ...row });

  for (const m of r.water.meters) {
    const base = { section: 'water', site: m.site, building: m.building, device: m.device, dev_eui: m.devEui, role: m.role, measurement: 'water' };
    push({ ...base, metric: 'volume_m3', period: year, value: m.m3, unit: 'm3' });
    m.monthlyM3.forEach((v, i) => v !== null && push({ ...base, metric: 'volume_m3', period: r.months[i], value: v, unit: 'm3' }));
    push({ ...base, metric: 'coverage', period: year, value: m.coverage });
  }
  for (const s of r.water.sites) {
    push({ section: 'water', site: s.site, metric: 'site_volume_m3', period: year, value: s.m3, unit: 'm3' });
    if (s.inflowM3 !== null) push({ section: 'water', site: s.site, metric: 'site_inflow_m3', period: year, value: s.inflowM3, unit: 'm3' });
  }
  for (const l of r.water.leaks) {
    const base = { section: 'leak', site: l.site, device: l.device, dev_eui: l.devEui, period: `${l.startedAt}/${l.endedAt ?? r.period.to}` };
    const note = `${l.rule} ${l.alertId}${l.ongoing ? ' ongoing' : ''}`;
    push({ ...base, metric: 'leak_duration_h', value: l.durationH, unit: 'h', note });
    push({ ...base, metric: 'leak_excess_l_per_h', value: l.excessLPerH, unit: 'L/h', note });
    push({ ...base, metric: 'leak_loss_m3', value: l.lossM3, unit: 'm3', note: `${note}; ${l.basis[lang]}` });
  }
  for (const o of r.water.otherWaterAlerts) push({ section: 'water', metric: 'other_water_alerts', period: year, value: o.count, note: o.rule });

  for (const b of r.energy.buildings) {
    const base = { section: 'energy', site: b.site, building: b.building };
    push({ ...base, metric: 'energy_kwh', period: year, value: b.kwh, unit: 'kWh' });
    b.monthlyKwh.forEach((v, i) => v !== null && push({ ...base, metric: 'energy_kwh', period: r.months[i], value: v, unit: 'kWh' }));
    push({ ...base, metric: 'coverage', period: year, value: b.coverage });
    for (const m of b.meters) push({ ...base, device: m.device, dev_eui: m.devEui, role: 'building-main', measurement: m.medium, metric: 'meter_kwh', period: year, value: m.kwh, unit: 'kWh' });
    if (b.dju !== null) {
      push({ ...base, metric: 'dju', period: year, value: b.dju, unit: 'K.day', note: `${b.djuDays} days` });
      push({ ...base, metric: 'kwh_on_dju_days', period: year, value: b.kwhOnDjuDays, unit: 'kWh' });
      push({ ...base, metric: 'kwh_per_dju', period: year, value: b.kwhPerDju, unit: 'kWh/K.day' });
    }
    const tr = b.tertiaire;
    if (tr) {
      push({ ...base, section: 'tertiaire', metric: 'reference_kwh', period: String(tr.referenceYear), value: tr.referenceKwh, unit: 'kWh' });
      for (const x of tr.targets) push({ ...base, section: 'tertiaire', metric: 'target_kwh', period: String(x.year), value: x.kwh, unit: 'kWh', note: `reduction ${x.reduction * 100} %` });
      push({ ...base, section: 'tertiaire', metric: 'path_kwh', period: year, value: tr.pathKwh, unit: 'kWh' });
      push({ ...base, section: 'tertiaire', metric: 'measured_kwh', period: year, value: tr.measuredKwh, unit: 'kWh', note: tr.complete ? '' : 'incomplete year' });
      push({ ...base, section: 'tertiaire', metric: 'reduction_pct', period: year, value: tr.reductionPct, unit: '%' });
      push({ ...base, section: 'tertiaire', metric: 'on_track', period: year, value: tr.onTrack });
    }
  }

  for (const d of r.datacenters) {
    const rep = d.report;
    const base = { section: 'datacenter', site: d.site, measurement: 'electricity' };
    push({ ...base, metric: 'energy_total_kwh', period: year, value: rep.energyKwh.total, unit: 'kWh' });
    push({ ...base, metric: 'energy_it_kwh', period: year, value: rep.energyKwh.it, unit: 'kWh' });
    push({ ...base, metric: 'pue', period: year, value: rep.pue });
    push({ ...base, metric: 'dcie', period: year, value: rep.dcie, unit: '%' });
    push({ ...base, metric: 'kg_co2e_total', period: year, value: rep.kgCo2e.total, unit: 'kgCO2e', note: `${rep.emissionFactor.id} ${rep.emissionFactor.kgCo2ePerKwh} kgCO2e/kWh` });
    push({ ...base, metric: 'pue_category', period: year, value: rep.pueCategory });
    for (const m of d.monthly) {
      if (m.facilityKwh !== null) push({ ...base, metric: 'energy_total_kwh', period: m.month, value: m.facilityKwh, unit: 'kWh' });
      if (m.itKwh !== null) push({ ...base, metric: 'energy_it_kwh', period: m.month, value: m.itKwh, unit: 'kWh' });
      if (m.pue !== null) push({ ...base, metric: 'pue', period: m.month, value: m.pue });
    }
  }

  push({ section: 'fleet', metric: 'devices', period: year, value: r.fleet.devices });
  push({ section: 'fleet', metric: 'uplinks', period: year, value: r.fleet.uplinks });
  push({ section: 'fleet', metric: 'airtime_s', period: year, value: r.fleet.airtimeS, unit: 's' });
  push({ section: 'fleet', metric: 'radio_energy_wh', period: year, value: r.fleet.radioEnergyWh, unit: 'Wh' });
  push({ section: 'fleet', metric: 'devices_flagged', period: year, value: r.fleet.flagged });
  for (const d of r.fleet.parsimony) {
    const base = { section: 'fleet', site: d.site, device: d.device, dev_eui: d.devEui, role: d.role, measurement: 'uplink', period: year };
    push({ ...base, metric: 'uplinks', value: d.uplinks });
    push({ ...base, metric: 'uplinks_per_day', value: d.uplinksPerDay, unit: '1/day' });
    push({ ...base, metric: 'airtime_s_per_day', value: d.airtimeSPerDay, unit: 's/day' });
    push({ ...base, metric: 'battery_years', value: d.battery?.years, unit: 'year' });
    push({ ...base, metric: 'flags', value: d.flags.join(';') });
  }
  for (const s of r.storage.measurements) {
    const base = { section: 'storage', measurement: s.measurement, period: year };
    push({ ...base, metric: 'points', value: s.points });
    push({ ...base, metric: 'values', value: s.values });
    push({ ...base, metric: 'bytes_estimated', value: s.bytes, unit: 'B' });
  }
  push({ section: 'storage', metric: 'bytes_estimated', period: year, value: r.storage.bytes, unit: 'B', note: 'total' });
  for (const h of r.headlines) {
    const period = h.covered ? `${h.covered.from}/${h.covered.to}` : year;
    push({ section: 'summary', metric: h.key, period, value: h.value, unit: h.unit === 'm³' ? 'm3' : h.unit, note: h.partial ? 'partial' : '' });
    push({ section: 'summary', metric: `${h.key}_coverage`, period, value: h.coverage });
    if (h.estimate) push({ section: 'summary', metric: `${h.key}_estimate_year`, period: year, value: h.estimate.value, unit: h.unit === 'm³' ? 'm3' : h.unit, note: h.estimate.method[lang] });
  }
  for (const w of r.warnings) push({ section: 'warning', metric: 'warning', value: w[lang] });
  return toCsv(YEARLY_CSV_COLUMNS, rows);
}
