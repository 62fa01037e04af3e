/** The one InfluxQL builder (services/storage/influxql.ts): escaping, the tenant OR-list, clauses and statements. */
import { describe, expect, it } from 'vitest';
import {
  alterRetentionPolicy,
  createDatabase,
  createRetentionPolicy,
  during,
  fields,
  ident,
  literal,
  qualified,
  select,
  showRetentionPolicies,
  showShards,
  showTagValues,
  tagFilters,
  where,
} from '../../services/storage/influxql.ts';

describe('escaping', () => {
  it('escapes quotes, backslashes and newlines in string literals', () => {
    expect(literal('mairie')).toBe(`'mairie'`);
    expect(literal(`o'brien`)).toBe(`'o\\'brien'`);
    expect(literal('a\\b')).toBe(`'a\\\\b'`);
    expect(literal('a\nb')).toBe(`'a\\nb'`);
    expect(literal('x\\')).toBe(`'x\\\\'`);
    // A value that tries to close the literal and widen the condition stays one literal.
    expect(literal(`x' OR '1'='1`)).toBe(`'x\\' OR \\'1\\'=\\'1'`);
    expect(literal(`x\\' OR 1=1 --`)).toBe(`'x\\\\\\' OR 1=1 --'`);
  });

  it('escapes quotes, backslashes and newlines in identifiers', () => {
    expect(ident('temperature_c')).toBe('"temperature_c"');
    expect(ident('we"ird')).toBe('"we\\"ird"');
    expect(ident('a\\b')).toBe('"a\\\\b"');
    expect(ident('two\nlines')).toBe('"two\\nlines"');
    expect(qualified('audit_log', 'audit')).toBe('"audit"."audit_log"');
    expect(qualified('uplink')).toBe('"uplink"');
    expect(qualified('uplink', '')).toBe('"uplink"');
    expect(qualified('m"x', 'r"p')).toBe('"r\\"p"."m\\"x"');
  });

  it('never leaves an unescaped quote or a raw newline in a literal, whatever the value', () => {
    const alphabet = ["'", '"', '\\', '\n', 'a', ' ', 'é', '/'];
    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    for (let i = 0; i < 2000; i++) {
      let v = '';
      for (let n = random(10); n > 0; n--) v += alphabet[random(alphabet.length)];
      const text = literal(v);
      expect(text.includes('\n')).toBe(false);
      // Reading the literal back as InfluxQL's scanner does gives the value, ending at the last quote only.
      let out = '';
      let j = 1;
      for (; j < text.length - 1; j++) {
        const c = text[j]!;
        expect(c).not.toBe("'");
        if (c === '\\') {
          const e = text[++j]!;
          out += e === 'n' ? '\n' : e;
        } else out += c;
      }
      expect(j).toBe(text.length - 1);
      expect(out).toBe(v);
    }
  });
});

describe('conditions', () => {
  it('renders the tenant OR-list, escaped', () => {
    expect(where([{ tag: 'tenant', in: ['a', `b'c`] }])).toBe(`("tenant" = 'a' OR "tenant" = 'b\\'c')`);
    expect(where([{ tag: 'tenant', in: ['a'] }])).toBe(`("tenant" = 'a')`);
  });

  it('makes an empty tenant list match nothing, never everything', () => {
    const q = select({ select: '*', from: 'uplink', where: [{ tag: 'tenant', in: [] }] });
    expect(q).toBe(`SELECT * FROM "uplink" WHERE ("tenant" = '' AND "tenant" != '')`);
    // Still ANDed with the other conditions: the contradiction confines the whole statement.
    expect(where([...during(0, 1), { tag: 'tenant', in: [] }])).toBe(`time >= 0ms AND time < 1ms AND ("tenant" = '' AND "tenant" != '')`);
  });

  it('renders time ranges in ms, ns and relative to now()', () => {
    expect(where(during(new Date(1_700_000_000_000), 1_700_000_003_600.9))).toBe('time >= 1700000000000ms AND time < 1700000003600ms');
    expect(where([{ time: '>=', at: 1_700_000_000_000_000_123n }])).toBe('time >= 1700000000000000123');
    expect(where([{ time: '>', at: { ago: '90d' } }])).toBe('time > now() - 90d');
    expect(() => where([{ time: '<', at: Number.NaN }])).toThrow(/not a finite epoch/);
    expect(() => where([{ time: '>', at: { ago: '1 day' as '1d' } }])).toThrow(/duration '1 day'/);
  });

  it('renders tag, regex and field conditions, and leaves out absent filters', () => {
    expect(where([{ tag: 'role', notEquals: '' }, { tag: 'channel', equals: '' }])).toBe(`"role" != '' AND "channel" = ''`);
    expect(where([{ tag: 'site', matches: /^a\/b$/ }, { tag: 'site', notMatches: '^x$' }])).toBe(`"site" =~ /^a\\/b$/ AND "site" !~ /^x$/`);
    expect(where([{ field: 'external_power', compare: '=', value: false }, { field: 'n', compare: '>', value: 0.5 }])).toBe(`"external_power" = false AND "n" > 0.5`);
    expect(where(['$timeFilter', ...tagFilters({ site: 'gymnase', rule: undefined, action: '' })])).toBe(`$timeFilter AND "site" = 'gymnase'`);
    expect(() => where([{ tag: 'site', matches: /a/i }])).toThrow(/flags/);
    expect(() => where([{ field: 'n', compare: '>', value: 5e-7 }])).toThrow(/plain decimal/);
  });
});

describe('SELECT', () => {
  it('renders fields, aggregates, nested calls and arithmetic with their aliases', () => {
    expect(select({ select: fields('sf', 'snr_db'), from: 'uplink' })).toBe('SELECT "sf", "snr_db" FROM "uplink"');
    expect(select({ select: [{ fn: 'count', field: '*' }], from: 'water' })).toBe('SELECT count(*) FROM "water"');
    expect(select({ select: [{ fn: 'non_negative_difference', of: { fn: 'last', field: 'volume_index_l' }, as: 'litres' }], from: 'water' })).toBe(
      'SELECT non_negative_difference(last("volume_index_l")) AS "litres" FROM "water"',
    );
    expect(select({ select: [{ fn: 'non_negative_derivative', of: { fn: 'last', field: 'e' }, per: '1h', as: 'w' }], from: 'electricity' })).toBe(
      'SELECT non_negative_derivative(last("e"), 1h) AS "w" FROM "electricity"',
    );
    expect(select({ select: [{ expr: { op: '/', left: { fn: 'sum', field: 'wh' }, right: 1000 }, as: 'kwh' }], from: 'electricity' })).toBe('SELECT sum("wh") / 1000 AS "kwh" FROM "electricity"');
    expect(() => select({ select: [], from: 'x' })).toThrow(/without a field/);
  });

  it('renders every clause in InfluxQL order', () => {
    const q = select({
      select: [{ fn: 'mean', field: 'temperature_c', as: 'c' }],
      from: { measurement: 'air_1h', rp: 'rollup_1h' },
      where: [...during(0, 86_400_000), { tag: 'tenant', in: ['a', 'b'] }],
      interval: '1d',
      groupBy: ['site', 'device'],
      fill: 'none',
      order: 'desc',
      limit: 10,
      offset: 20,
      slimit: 5,
      soffset: 1,
      tz: 'Europe/Paris',
    });
    expect(q).toBe(
      `SELECT mean("temperature_c") AS "c" FROM "rollup_1h"."air_1h" WHERE time >= 0ms AND time < 86400000ms AND ("tenant" = 'a' OR "tenant" = 'b') ` +
        `GROUP BY time(1d), "site", "device" fill(none) ORDER BY time DESC LIMIT 10 OFFSET 20 SLIMIT 5 SOFFSET 1 tz('Europe/Paris')`,
    );
    expect(select({ select: '*', from: 'x', groupBy: '*', fill: 0 })).toBe('SELECT * FROM "x" GROUP BY * fill(0)');
    expect(() => select({ select: '*', from: 'x', limit: 1.5 })).toThrow(/LIMIT 1.5/);
    expect(() => select({ select: '*', from: 'x', interval: '15 m' as '15m' })).toThrow(/duration/);
  });

  it('renders a subquery', () => {
    const inner = { select: [{ fn: 'non_negative_difference' as const, field: 'v', as: 'delta' }], from: 'water', where: ['$timeFilter' as const], groupBy: ['device'] };
    expect(select({ select: [{ fn: 'sum', field: 'delta' }], from: inner, where: ['$timeFilter'] })).toBe(
      'SELECT sum("delta") FROM (SELECT non_negative_difference("v") AS "delta" FROM "water" WHERE $timeFilter GROUP BY "device") WHERE $timeFilter',
    );
  });
});

describe('other statements', () => {
  it('renders SHOW, CREATE DATABASE and retention policies', () => {
    expect(showShards()).toBe('SHOW SHARDS');
    expect(showRetentionPolicies('veil"leur')).toBe('SHOW RETENTION POLICIES ON "veil\\"leur"');
    expect(createDatabase('veilleur')).toBe('CREATE DATABASE "veilleur"');
    expect(showTagValues({ from: 'uplink', key: 'site', where: [{ tag: 'tenant', matches: '^$tenant$' }] })).toBe('SHOW TAG VALUES FROM "uplink" WITH KEY = "site" WHERE "tenant" =~ /^$tenant$/');
    expect(showTagValues({ from: 'uplink', key: 'tenant' })).toBe('SHOW TAG VALUES FROM "uplink" WITH KEY = "tenant"');
    const policy = { name: 'autogen', database: 'veilleur', duration: '720h', shardDuration: '24h' } as const;
    expect(alterRetentionPolicy(policy)).toBe('ALTER RETENTION POLICY "autogen" ON "veilleur" DURATION 720h SHARD DURATION 24h');
    expect(createRetentionPolicy({ ...policy, duration: 'INF' })).toBe('CREATE RETENTION POLICY "autogen" ON "veilleur" DURATION INF REPLICATION 1 SHARD DURATION 24h');
  });
});
