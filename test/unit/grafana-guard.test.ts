/**
 * The guard of Grafana's read path (services/api/grafana-guard.ts) on its own: every dashboard query (both
 * languages, as Grafana substitutes them) is accepted and confined; anything else is refused with a reason. The
 * integration test (test/integration/grafana.test.ts) runs the same queries against a real InfluxDB.
 */
import { describe, expect, it } from 'vitest';
import { confine, QueryRefused } from '../../services/api/grafana-guard.ts';
import { dashboardQueries, substitute } from '../grafana/dashboard-queries.ts';

const A = ['saint-veilleur'];
const clause = `("tenant" = 'saint-veilleur')`;
const range = { from: 1_780_000_000_000, to: 1_780_600_000_000 };
const TF = `time >= ${range.from}ms and time <= ${range.to}ms`;

const refusal = (q: string, tenants: string[] | undefined = A): string => {
  try {
    confine(q, tenants);
  } catch (err) {
    if (err instanceof QueryRefused) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${q}`);
};

describe('the dashboards’ queries', () => {
  const queries = dashboardQueries();

  it('reads all eight dashboards, panels and variables', () => {
    expect(new Set(queries.map((q) => q.file)).size).toBe(8);
    expect(queries.filter((q) => q.where.startsWith('variable')).length).toBe(8 * 3);
    expect(queries.length).toBeGreaterThan(100);
  });

  it('accepts every one, with one commune, several, or All, and confines each measurement read', () => {
    for (const q of queries) {
      for (const tenant of [['saint-veilleur'], ['saint-veilleur', 'commune-b'], 'All'] as const) {
        const text = substitute(q.template, { ...range, tenant: tenant === 'All' ? 'All' : [...tenant], site: ['mairie'], device: 'All' });
        const out = confine(text, A);
        expect(out.kind, `${q.file} ${q.where}`).toBe('query');
        if (out.kind !== 'query') continue;
        // One commune clause per SELECT that reads a measurement (the innermost), and per SHOW TAG VALUES.
        const reads = text.startsWith('SHOW') ? 1 : (text.match(/FROM "(?!\()/g) ?? []).length;
        expect(out.influxql.split(clause).length - 1, `${q.file} ${q.where}: ${out.influxql}`).toBe(reads);
        // The query's own conditions are kept.
        expect(out.influxql).toContain(text.startsWith('SHOW') ? 'SHOW TAG VALUES FROM "uplink"' : TF.replace(' and ', ' AND '));
      }
    }
  });

  it('sends them unchanged but re-quoted for an instance-wide key (no commune added)', () => {
    for (const q of queries) {
      const out = confine(substitute(q.template, range), undefined);
      expect(out.kind).toBe('query');
      if (out.kind === 'query') expect(out.influxql).not.toContain('("tenant" =');
    }
  });
});

describe('what it refuses', () => {
  const cases: [string, RegExp][] = [
    ['SHOW DATABASES', /SHOW DATABASES/],
    ['SHOW MEASUREMENTS WHERE "tenant" = \'commune-b\'', /SHOW MEASUREMENTS/],
    ['SHOW TAG KEYS FROM "uplink"', /KEYS/],
    ['SHOW SERIES', /SHOW SERIES/],
    ['SHOW TAG VALUES FROM "action_log" WITH KEY = "tenant"', /action_log/],
    ['SHOW TAG VALUES FROM "uplink" WITH KEY = "dev_eui"', /dev_eui/],
    ['SHOW TAG VALUES FROM "uplink" WITH KEY =~ /.*/', /«|'/],
    ['DROP MEASUREMENT "uplink"', /DROP/],
    ['DELETE FROM "uplink"', /DELETE/],
    ['CREATE DATABASE x', /CREATE/],
    [`SELECT * FROM "uplink_rejected" WHERE ${TF}`, /SELECT \*/],
    [`SELECT * FROM "water" WHERE ${TF}`, /SELECT \*/],
    [`SELECT "message_b64" FROM "uplink_rejected"`, /WHERE/],
    [`SELECT count("f_cnt") FROM "uplink"`, /WHERE/],
    [`SELECT count("f_cnt") FROM "uplink" WHERE "tenant" = 'a'`, /bounded in time/],
    [`SELECT count("f_cnt") FROM "uplink" WHERE time > now() - 1d`, /time bounds/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF}; DROP MEASUREMENT "uplink"`, /one statement/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF};`, /one statement/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} OR "tenant" = 'commune-b'`, /OR in WHERE/],
    [`SELECT mean("sf") FROM "uplink" WHERE (${TF}) OR "tenant" =~ /.*/`, /parentheses/],
    [`SELECT mean("sf") FROM "uplink", "water" WHERE ${TF}`, /one source/],
    [`SELECT mean("sf") FROM /.*/ WHERE ${TF}`, /identifier expected/],
    [`SELECT mean("sf") FROM "veilleur"."autogen"."uplink" WHERE ${TF}`, /database/],
    [`SELECT mean("sf") FROM "autogen"."uplink" WHERE ${TF}`, /autogen/],
    [`SELECT "name" FROM "action_log" WHERE ${TF}`, /action_log/],
    [`SELECT "name" FROM "audit_log" WHERE ${TF}`, /audit_log/],
    [`SELECT mean("sf") INTO "x" FROM "uplink" WHERE ${TF}`, /FROM/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} LIMIT 1`, /LIMIT/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} ORDER BY time DESC`, /ORDER/],
    [`SELECT top("sf", 3) FROM "uplink" WHERE ${TF}`, /top\(\)/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} GROUP BY time(1.5h)`, /duration/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} GROUP BY *`, /identifier/],
    [`SELECT mean("sf") FROM "uplink" WHERE time >= 0ms and time <= ${range.to}ms GROUP BY time(1m)`, /more than 50000 time buckets/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} GROUP BY time(1ms)`, /time buckets/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} tz('Europe/Paris\\') OR 1=1')`, /time zone/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} AND "tenant" = 'a' --`, /unexpected/],
    [`SELECT mean("sf") FROM "up\\"link" WHERE ${TF}`, /identifier/],
    // InfluxQL refuses an escape it does not know; the guard must not read it as the bare letter.
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} AND "site" = 'a\\tb'`, /unknown escape sequence \\t/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} AND "site" =~ /[/`, /regex/],
    [`SELECT mean("sf") FROM "uplink" WHERE ${TF} AND "site" =~ /^a$`, /unterminated/],
    // A subquery escaping the filter: it reads a measurement too, so it gets the commune as well (accepted, confined),
    // but one reading outside the whitelist or without a time range is refused.
    [`SELECT sum("x") FROM (SELECT "message_b64" AS "x" FROM "uplink_rejected") WHERE ${TF}`, /WHERE/],
    [`SELECT sum("x") FROM (SELECT "name" AS "x" FROM "action_log" WHERE ${TF}) WHERE ${TF}`, /action_log/],
    [`SELECT a FROM (SELECT a FROM (SELECT a FROM (SELECT a FROM "uplink" WHERE ${TF}) WHERE ${TF}) WHERE ${TF}) WHERE ${TF}`, /nested/],
    ['', /empty/],
    ['x'.repeat(9000), /longer than/],
  ];

  it.each(cases.map(([q, reason]) => [q.slice(0, 120), q, reason] as const))('%s', (_title, q, reason) => {
    const message = refusal(q);
    expect(message).toMatch(/^requête refusée par Veilleur : .+ \(refused: .+\)$/);
    expect(message).toMatch(reason);
  });

  it('confines a subquery that names another commune, whatever the outer query says', () => {
    const q = `SELECT sum("n") FROM (SELECT count("f_cnt") AS "n" FROM "uplink" WHERE ${TF} AND "tenant" = 'commune-b' GROUP BY "device") WHERE ${TF} AND "tenant" =~ /.*/`;
    const out = confine(q, A);
    expect(out).toEqual({
      kind: 'query',
      influxql: `SELECT sum("n") FROM (SELECT count("f_cnt") AS "n" FROM "uplink" WHERE time >= ${range.from}ms AND time <= ${range.to}ms AND "tenant" = 'commune-b' AND ${clause} GROUP BY "device") WHERE time >= ${range.from}ms AND time <= ${range.to}ms AND "tenant" =~ /.*/`,
    });
  });

  it('escapes tag values again when it writes the statement', () => {
    const out = confine(`SELECT last("leak") FROM "water" WHERE ${TF} AND "site" = 'salle d\\'eau' AND "device" = 'a\\\\b'`, ['o\'brien']);
    expect(out.kind === 'query' && out.influxql).toBe(`SELECT last("leak") FROM "water" WHERE time >= ${range.from}ms AND time <= ${range.to}ms AND "site" = 'salle d\\'eau' AND "device" = 'a\\\\b' AND ("tenant" = 'o\\'brien')`);
  });

  it('reads \\n in a quoted value as the newline InfluxDB reads, and writes it back escaped', () => {
    const out = confine(`SELECT last("leak") FROM "water" WHERE ${TF} AND "device" = 'ligne 1\\nligne 2'`, A);
    expect(out.kind === 'query' && out.influxql).toBe(`SELECT last("leak") FROM "water" WHERE time >= ${range.from}ms AND time <= ${range.to}ms AND "device" = 'ligne 1\\nligne 2' AND ${clause}`);
  });

  it('answers Grafana’s connection test without reading anything, and refuses a key without commune', () => {
    expect(confine('SHOW measurements', A)).toEqual({ kind: 'connectionTest' });
    expect(refusal('SHOW measurements', [])).toMatch(/no commune/);
  });
});
