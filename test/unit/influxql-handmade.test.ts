/**
 * No InfluxQL is written by hand outside the one builder (services/storage/influxql.ts, issue 16 item 3): the string
 * and template literals of the production sources are read (comments left out, influxql-scan.ts) and any that holds
 * a statement or a clause of InfluxQL fails the test.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handmadeInfluxQL, literals } from './influxql-scan.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SOURCES = ['services', 'dashboards', 'decoders', 'bin', 'infra'];
const BUILDER = 'services/storage/influxql.ts';

/**
 * Files allowed to hold InfluxQL text, each with its reason. Empty: every statement goes through the builder.
 * (services/api/grafana-guard.ts parses Grafana's InfluxQL but renders what it sends with the builder.)
 */
const ALLOWED: Record<string, string> = {};

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

describe('InfluxQL is built by the builder only', () => {
  it('finds no InfluxQL written by hand in services/, dashboards/, decoders/, bin/, infra/', () => {
    const files = SOURCES.flatMap((d) => sources(join(ROOT, d))).map((p) => relative(ROOT, p));
    expect(files).toContain(BUILDER);
    expect(files.length).toBeGreaterThan(100);
    const found = files
      .filter((f) => f !== BUILDER && !(f in ALLOWED))
      .flatMap((f) => handmadeInfluxQL(readFileSync(join(ROOT, f), 'utf8')).map((hit) => `${f}:${hit}`));
    expect(found, 'use services/storage/influxql.ts').toEqual([]);
  });

  it('catches the hand-built shapes that were in the tree before the builder', () => {
    const handmade = [
      'const q = `SELECT * FROM ${m} WHERE time >= ${from}ms AND time < ${to}ms ORDER BY time ASC`;',
      "influx.query('SHOW SHARDS');",
      'const s = `SHOW RETENTION POLICIES ON ${db}`;',
      'const s = `ALTER RETENTION POLICY ${rp} ON ${db} DURATION ${d}`;',
      'await this.query(`CREATE DATABASE "${db}"`);',
      "const roleWhere = (roles) => `(${roles.map((r) => `\"role\" = '${r}'`).join(' OR ')})`;",
      "const w = `${tag('tenant')} = ${influxqlString(t)}`; const x = ` AND \"site\" = ${s}`;",
      "const tail = ` LIMIT ${limit}${q.offset ? ` OFFSET ${q.offset}` : ''}`;",
      'const byMeter = \'GROUP BY "tenant", "site", "dev_eui", "role"\';',
      'const g = `GROUP BY time(1h), ${tags} fill(none)`;',
      "const tz = ` tz(${influxqlString(z)})`;",
      'const since = `time >= ${t}ms`;',
      'const a = `time > now() - ${days}d`;',
      "const f = `${select} WHERE ${where}`;",
      'const x = \'DELETE FROM "uplink"\';',
      "const y = 'DROP MEASUREMENT \"uplink\"';",
      'const z = `SHOW TAG VALUES FROM ${uplink} WITH KEY = ${k}`;',
      'const a = `last(${f}) AS ${g}`;',
    ];
    for (const src of handmade) expect(handmadeInfluxQL(src), src).not.toEqual([]);
  });

  it('leaves texts that name a keyword, comments and regex literals alone', () => {
    const fine = [
      "refuse('SELECT * : nommer les champs', 'SELECT *: name the fields');",
      "refuse('SHOW MEASUREMENTS avec une clause', 'SHOW MEASUREMENTS with a clause');",
      "refuse(`seules les requêtes SELECT et SHOW TAG VALUES des tableaux de bord sont acceptées, pas « ${v} »`, 'x');",
      "refuse(`durée invalide dans GROUP BY time : « ${d} »`, `invalid GROUP BY time duration '${d}'`);",
      "refuse(`fill(${f.v}) non accepté`, `fill(${f.v}) not accepted`);",
      "refuse(`plus de ${n} intervalles de temps (GROUP BY time(${e}))`, `more than ${n} time buckets (GROUP BY time(${e}))`);",
      "refuse('la borne de temps doit être « time >= <n>ms »', \"time bounds must be 'time >= <n>ms'\");",
      '// SELECT * FROM "uplink" WHERE time > now() - 1h',
      '/** `SELECT count(*) FROM x GROUP BY "tenant"` */ const a = 1;',
      "const n = Date.now() - 5; const r = /\"role\" = '/g; const d = a / b / c;",
      "const s = 'le compteur d\\'eau'; const t = `${a} / ${b}`;",
    ];
    for (const src of fine) expect(handmadeInfluxQL(src), src).toEqual([]);
  });

  it('reads literals past comments, nested templates and regexes', () => {
    const src = "const a = /'\\//g; // it's\nconst b = `x ${`in ${'deep'}`} y`; /* 'no' */ const c = a / 2 / 'z'.length;";
    expect(literals(src).map((l) => l.text)).toEqual(['deep', 'in ${}', 'x ${} y', 'z']);
  });
});
