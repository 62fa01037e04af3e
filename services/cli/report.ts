/**
 * `veilleur report datacenter`: the PUE report of a server room (JSON or CSV), or its yearly EU data-centre
 * export (Delegated Regulation (EU) 2024/1364) with `--eed YEAR`.
 * `veilleur report parsimony`: uplinks, airtime and battery per device against what its rules need.
 * `veilleur report yearly`: the REEN yearly review of a tenant (HTML with charts, CSV or JSON).
 * Reads InfluxDB with the service's own configuration (environment variables, VEILLEUR_CONFIG), so it runs
 * wherever `veilleur serve` runs.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/load.ts';
import { EMISSION_FACTORS, isEmissionFactorId } from '../datacenter/emission-factors.ts';
import { datacenterReport, datacenterReportCsv, eedYearlyExport } from '../datacenter/kpi.ts';
import { parsimonyCsv, yearlyCsv } from '../reports/csv.ts';
import { renderParsimonyHtml, renderYearlyHtml } from '../reports/html.ts';
import { parsimonyReport, yearlyReport } from '../reports/read.ts';
import { createInfluxTarget } from '../storage/influx.ts';

export const REPORT_USAGE = `usage: veilleur report datacenter --site S [--tenant T] [--zone Z] --from RFC3339 --to RFC3339
                                [--format json|csv] [--category 1|2|3] [--factor ID]
       veilleur report datacenter --site S [--tenant T] [--zone Z] --eed YEAR [--category 1|2|3] [--factor ID]

  --site S          registry site of the server room (meters with roles facility-total and it-load, optionally cooling, other)
  --tenant T        tenant (default: the only tenant of VEILLEUR_CONFIG, else DEFAULT_TENANT)
  --zone Z          restrict to one zone of the site
  --from, --to      period [from, to), RFC 3339 (2026-01-01T00:00:00+01:00)
  --format          json (default) or csv
  --category        PUE measurement category of the IT meter: 1 UPS output, 2 PDU output, 3 IT equipment input
  --factor ID       emission factor (${Object.keys(EMISSION_FACTORS).join(', ')})
  --eed YEAR        the calendar year's EU data-centre report fields (JSON; Europe/Paris year boundaries)

       veilleur report parsimony --tenant T [--from RFC3339 --to RFC3339] [--format json|csv|html] [--lang fr|en] [--out FILE]

  uplinks/day, airtime/day, battery estimate per device, against the reporting interval its rules need
  --from, --to      period [from, to) (default: the last 7 days; at most 366 days)

       veilleur report yearly --tenant T --year YYYY [--format html|csv|json] [--lang fr|en] [--out FILE]

  the REEN yearly review: water and leaks, building energy (DJU, décret tertiaire), server rooms, fleet and
  platform footprint; HTML (default) is self-contained, with charts, and opens offline
  --lang            fr (default) or en, for HTML (and the notes of the CSV)
  --out FILE        write the report to FILE instead of the standard output
`;

const MAX_PARSIMONY_DAYS = 366;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function fail(message: string): number {
  process.stderr.write(`veilleur report: ${message}\n${REPORT_USAGE}`);
  return 2;
}

function parseTime(name: string, value: string | undefined): Date | string {
  if (value === undefined) return `${name}: required (an RFC 3339 time, e.g. 2026-01-01T00:00:00Z)`;
  const d = new Date(value);
  if (!RFC3339.test(value) || Number.isNaN(d.getTime())) return `${name}: expected an RFC 3339 time with a zone (2026-01-01T00:00:00Z), got '${value}'`;
  return d;
}

export async function reportCommand(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (kind === '--help' || kind === '-h' || kind === 'help') {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (kind === 'parsimony' || kind === 'yearly') return governanceCommand(kind, rest);
  if (kind !== 'datacenter') return fail(kind === undefined ? 'which report? (datacenter, parsimony, yearly)' : `unknown report '${kind}' (expected: datacenter, parsimony, yearly)`);

  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        site: { type: 'string' },
        tenant: { type: 'string' },
        zone: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        format: { type: 'string' },
        category: { type: 'string' },
        factor: { type: 'string' },
        eed: { type: 'string' },
      },
    }));
  } catch (err) {
    return fail((err as Error).message);
  }

  if (!values.site) return fail('--site: required');
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'csv') return fail(`--format: expected json or csv, got '${format}'`);
  let category: 1 | 2 | 3 | undefined;
  if (values.category !== undefined) {
    if (!/^[123]$/.test(values.category)) return fail(`--category: expected 1, 2 or 3, got '${values.category}'`);
    category = Number(values.category) as 1 | 2 | 3;
  }
  if (values.factor !== undefined && !isEmissionFactorId(values.factor)) {
    return fail(`--factor: unknown emission factor '${values.factor}' (known: ${Object.keys(EMISSION_FACTORS).join(', ')})`);
  }

  let year: number | undefined;
  let from: Date | undefined;
  let to: Date | undefined;
  if (values.eed !== undefined) {
    if (!/^\d{4}$/.test(values.eed)) return fail(`--eed: expected a year (2026), got '${values.eed}'`);
    if (values.from !== undefined || values.to !== undefined) return fail('--eed: covers a calendar year; leave out --from and --to');
    if (format !== 'json') return fail('--eed: the EU export is JSON only');
    year = Number(values.eed);
  } else {
    const f = parseTime('--from', values.from);
    const t = parseTime('--to', values.to);
    if (typeof f === 'string') return fail(f);
    if (typeof t === 'string') return fail(t);
    if (t.getTime() <= f.getTime()) return fail('--to: must be after --from');
    from = f;
    to = t;
  }

  const cfg = loadConfig();
  let tenant = values.tenant;
  if (!tenant) {
    const tenants = cfg.registry.tenants.map((t) => t.id);
    if (tenants.length > 1) return fail(`--tenant: required, VEILLEUR_CONFIG has several tenants (${tenants.join(', ')})`);
    tenant = tenants[0] ?? cfg.defaultTenant;
  }

  const influx = createInfluxTarget(cfg.influx);
  const common = { influx, tenant, site: values.site, zone: values.zone, category, factor: values.factor };
  if (year !== undefined) {
    process.stdout.write(`${JSON.stringify(await eedYearlyExport({ ...common, year }), null, 2)}\n`);
    return 0;
  }
  const report = await datacenterReport({ ...common, from: from!, to: to! });
  process.stdout.write(format === 'csv' ? datacenterReportCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

function resolveTenant(cfg: Config, tenant: string | undefined): string | { error: string } {
  if (tenant) return tenant;
  const tenants = cfg.registry.tenants.map((t) => t.id);
  if (tenants.length > 1) return { error: `--tenant: required, VEILLEUR_CONFIG has several tenants (${tenants.join(', ')})` };
  return tenants[0] ?? cfg.defaultTenant;
}

/** `report parsimony` and `report yearly`. */
async function governanceCommand(kind: 'parsimony' | 'yearly', args: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        tenant: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        year: { type: 'string' },
        format: { type: 'string' },
        lang: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (err) {
    return fail((err as Error).message);
  }
  const formats = kind === 'parsimony' ? ['json', 'csv', 'html'] : ['html', 'csv', 'json'];
  const format = values.format ?? formats[0]!;
  if (!formats.includes(format)) return fail(`--format: expected ${formats.join(', ')}, got '${format}'`);
  const lang = values.lang ?? 'fr';
  if (lang !== 'fr' && lang !== 'en') return fail(`--lang: expected fr or en, got '${lang}'`);

  let from: Date | undefined;
  let to: Date | undefined;
  let year: number | undefined;
  if (kind === 'parsimony') {
    if (values.year !== undefined) return fail('--year: only for the yearly report (parsimony takes --from and --to)');
    const t = values.to === undefined ? new Date() : parseTime('--to', values.to);
    if (typeof t === 'string') return fail(t);
    const f = values.from === undefined ? new Date(t.getTime() - 7 * 86_400_000) : parseTime('--from', values.from);
    if (typeof f === 'string') return fail(f);
    if (t.getTime() <= f.getTime()) return fail('--to: must be after --from');
    if (t.getTime() - f.getTime() > MAX_PARSIMONY_DAYS * 86_400_000) return fail(`--from: the period is at most ${MAX_PARSIMONY_DAYS} days`);
    from = f;
    to = t;
  } else {
    if (values.from !== undefined || values.to !== undefined) return fail('--year: the yearly report covers a calendar year; leave out --from and --to');
    if (values.year === undefined || !/^20\d{2}$/.test(values.year)) return fail(`--year: expected a year (2026), got '${values.year ?? ''}'`);
    year = Number(values.year);
  }

  const cfg = loadConfig();
  const tenant = resolveTenant(cfg, values.tenant);
  if (typeof tenant !== 'string') return fail(tenant.error);
  const influx = createInfluxTarget(cfg.influx);

  let text: string;
  if (kind === 'parsimony') {
    const r = await parsimonyReport({ influx, registry: cfg.registry, tenant, from: from!, to: to! });
    text = format === 'csv' ? parsimonyCsv(r) : format === 'html' ? renderParsimonyHtml(r, lang) : `${JSON.stringify(r, null, 2)}\n`;
  } else {
    const r = await yearlyReport({ influx, registry: cfg.registry, tenant, year: year! });
    text = format === 'csv' ? yearlyCsv(r, lang) : format === 'html' ? renderYearlyHtml(r, lang) : `${JSON.stringify(r, null, 2)}\n`;
  }
  if (values.out) {
    writeFileSync(values.out, text);
    process.stderr.write(`veilleur report: ${kind} report written to ${values.out}\n`);
  } else process.stdout.write(text);
  return 0;
}
