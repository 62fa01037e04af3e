/**
 * The read path Grafana uses (docs/grafana.md): an InfluxQL statement as Grafana's InfluxDB datasource sends it
 * (dashboard variables and `$timeFilter`/`$__interval` already substituted) is parsed with a grammar that knows
 * only the shapes dashboards/influxql.ts generates, checked against a whitelist (measurements, functions, a time
 * range on every SELECT), and written again from the parse tree with the key's communes ANDed into every SELECT
 * that reads a measurement and every SHOW TAG VALUES. The text sent to InfluxDB is therefore always built here:
 * what the query says about `tenant` can only narrow what the key covers, never widen it.
 *
 * Not accepted: several statements, `SELECT *`, regex or multiple sources, database-qualified names, INTO, LIMIT,
 * ORDER BY, OR, SHOW anything but TAG VALUES of uplink (and Grafana's connection test, answered without InfluxDB).
 */
import { MEASUREMENTS } from '../../decoders/model/quantities.ts';
import { RESOLUTIONS, ROLLUP_RP, rollupMeasurement } from '../rollups/names.ts';
import { ALERT_EVENT, UPLINK, UPLINK_REJECTED, UPLINK_UNDECODED } from '../storage/schema.ts';
import * as influxql from '../storage/influxql.ts';

/** A statement refused, with why (in French and English: Grafana shows it under the panel). */
export class QueryRefused extends Error {
  override name = 'QueryRefused';
}

/** The escapes InfluxQL's scanner accepts in strings and quoted identifiers, and what each stands for. */
const ESCAPES = new Map([['n', '\n'], ['\\', '\\'], ["'", "'"], ['"', '"']]);

const refuse = (fr: string, en: string): never => {
  throw new QueryRefused(`requête refusée par Veilleur : ${fr} (refused: ${en})`);
};

export const MAX_QUERY_LENGTH = 8000;
const MAX_DEPTH = 3;
/** Time buckets one SELECT may ask for: a year of hours is 8,784, five years of days 1,827. */
export const MAX_BUCKETS = 50_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const durationMs = (d: string): number => {
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(d)!;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
};

/** Raw measurements the dashboards read (default retention policy). */
export const READABLE_MEASUREMENTS: ReadonlySet<string> = new Set<string>([...MEASUREMENTS, UPLINK.measurement, UPLINK_UNDECODED.measurement, UPLINK_REJECTED.measurement, ALERT_EVENT.measurement]);
/** Rollups: retention policy → measurements. */
const READABLE_ROLLUPS: ReadonlyMap<string, ReadonlySet<string>> = new Map(RESOLUTIONS.map((r) => [ROLLUP_RP[r], new Set(MEASUREMENTS.map((m) => rollupMeasurement(m, r)))]));
/** Tags whose values the dashboard variables list. */
const TAG_VALUE_KEYS = new Set(['tenant', 'site', 'device']);
const AGGREGATES = new Set(['mean', 'min', 'max', 'last', 'sum', 'count']);
const FILLS = new Set(['null', 'none', 'previous', 'linear']);
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const DURATION = /^[1-9]\d{0,8}(ms|s|m|h|d|w)$/;
const TIME_ZONE = /^[A-Za-z]+(\/[A-Za-z0-9_+-]+){0,2}$/;

// ---------------------------------------------------------------------------------------------------------
// Scanner: identifiers, strings, regexes (only where the parser expects one), numbers, durations, operators.

type Token =
  | { t: 'word'; v: string }
  | { t: 'ident'; v: string }
  | { t: 'string'; v: string }
  | { t: 'number'; v: string }
  | { t: 'duration'; v: string }
  | { t: 'op'; v: string }
  | { t: 'eof'; v: '' };

class Scanner {
  private pos = 0;
  constructor(private readonly s: string) {}

  private skipSpace(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  /** A regex literal `/…/` (InfluxQL: a backslash escapes the next character). Returns its source, as written. */
  regex(): string {
    this.skipSpace();
    if (this.s[this.pos] !== '/') refuse(`expression régulière attendue à la position ${this.pos}`, `regex expected at position ${this.pos}`);
    let i = this.pos + 1;
    let body = '';
    for (;;) {
      const c = this.s[i];
      if (c === undefined || c === '\n' || c === '\r') refuse('expression régulière non terminée', 'unterminated regex');
      if (c === '\\') {
        const n = this.s[i + 1];
        if (n === undefined || n === '\n' || n === '\r') refuse('expression régulière non terminée', 'unterminated regex');
        body += c + n;
        i += 2;
        continue;
      }
      if (c === '/') break;
      body += c;
      i++;
    }
    this.pos = i + 1;
    try {
      new RegExp(body.replace(/\\\//g, '/'));
    } catch {
      refuse(`expression régulière invalide /${body}/`, `invalid regex /${body}/`);
    }
    return body;
  }

  next(): Token {
    this.skipSpace();
    const s = this.s;
    const c = s[this.pos];
    if (c === undefined) return { t: 'eof', v: '' };
    if (c === '"' || c === "'") {
      let i = this.pos + 1;
      let v = '';
      for (;;) {
        const ch = s[i];
        if (ch === undefined || ch === '\n') refuse('chaîne ou identifiant non terminé', 'unterminated string or identifier');
        if (ch === '\\') {
          // InfluxQL's scanner knows four escapes (`\n` is a newline) and refuses any other: read them as it does.
          const n = s[i + 1];
          if (n === undefined) refuse('chaîne ou identifiant non terminé', 'unterminated string or identifier');
          const escaped = ESCAPES.get(n!);
          if (escaped === undefined) refuse(`séquence d'échappement inconnue \\${n}`, `unknown escape sequence \\${n}`);
          v += escaped;
          i += 2;
          continue;
        }
        if (ch === c) break;
        v += ch;
        i++;
      }
      this.pos = i + 1;
      return { t: c === '"' ? 'ident' : 'string', v };
    }
    const num = /^\d+(\.\d+)?(ms|s|m|h|d|w)?(?![A-Za-z0-9_])/.exec(s.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return num[2] ? { t: 'duration', v: num[0] } : { t: 'number', v: num[0] };
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos));
    if (word) {
      this.pos += word[0].length;
      return { t: 'word', v: word[0] };
    }
    const op = /^(=~|!~|!=|>=|<=|[=<>(),.*+\-/;])/.exec(s.slice(this.pos));
    if (op) {
      this.pos += op[0].length;
      return { t: 'op', v: op[0] };
    }
    return refuse(`caractère inattendu « ${c} » à la position ${this.pos}`, `unexpected character '${c}' at position ${this.pos}`);
  }

  peek(): Token {
    const at = this.pos;
    const t = this.next();
    this.pos = at;
    return t;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parse tree.

type Expr = { k: 'num'; v: string } | { k: 'field'; name: string } | { k: 'call'; fn: string; args: (Expr | { k: 'dur'; v: string })[] } | { k: 'bin'; op: string; l: Expr; r: Expr };

type Cond =
  | { k: 'time'; op: string; ms: string }
  | { k: 'tag'; name: string; op: '=' | '!='; value: string }
  | { k: 'regex'; name: string; op: '=~' | '!~'; source: string }
  | { k: 'num'; name: string; op: string; value: string };

interface Select {
  k: 'select';
  fields: { expr: Expr; as?: string }[];
  from: { k: 'measurement'; rp?: string; name: string } | Select;
  where: Cond[];
  groupBy: ({ k: 'time'; every: string } | { k: 'tag'; name: string })[];
  fill?: string;
  tz?: string;
}

interface ShowTagValues {
  k: 'tagValues';
  from: string;
  key: string;
  where: Cond[];
}

export type Statement = Select | ShowTagValues | { k: 'connectionTest' };

class Parser {
  private readonly sc: Scanner;
  constructor(text: string) {
    this.sc = new Scanner(text);
  }

  private isWord(t: Token, w: string): boolean {
    return t.t === 'word' && t.v.toLowerCase() === w;
  }

  private expectWord(w: string): void {
    const t = this.sc.next();
    if (!this.isWord(t, w)) refuse(`${w.toUpperCase()} attendu, trouvé « ${t.v || 'fin de la requête'} »`, `expected ${w.toUpperCase()}, found '${t.v || 'end of query'}'`);
  }

  private expectOp(op: string): void {
    const t = this.sc.next();
    if (t.t !== 'op' || t.v !== op) refuse(`« ${op} » attendu, trouvé « ${t.v || 'fin de la requête'} »`, `expected '${op}', found '${t.v || 'end of query'}'`);
  }

  private acceptOp(op: string): boolean {
    const t = this.sc.peek();
    if (t.t === 'op' && t.v === op) {
      this.sc.next();
      return true;
    }
    return false;
  }

  /** A quoted or bare identifier (bare ones only when they are not keywords of the grammar). */
  private ident(): string {
    const t = this.sc.next();
    // Names are plain (letters, digits, _ - .): no escaping to get wrong between this scanner and InfluxDB's.
    if (t.t === 'ident' && NAME.test(t.v)) return t.v;
    if (t.t === 'word' && !KEYWORDS.has(t.v.toLowerCase()) && NAME.test(t.v)) return t.v;
    return refuse(`identifiant attendu, trouvé « ${t.v || 'fin de la requête'} »`, `identifier expected, found '${t.v || 'end of query'}'`);
  }

  statement(): Statement {
    const first = this.sc.peek();
    let st: Statement;
    if (this.isWord(first, 'select')) st = this.select(1);
    else if (this.isWord(first, 'show')) st = this.show();
    else return refuse(`seules les requêtes SELECT et SHOW TAG VALUES des tableaux de bord sont acceptées, pas « ${first.v} »`, `only the dashboards' SELECT and SHOW TAG VALUES queries are accepted, not '${first.v}'`);
    const end = this.sc.next();
    if (end.t === 'op' && end.v === ';') refuse('une seule instruction par requête (pas de « ; »)', "one statement per request (no ';')");
    if (end.t !== 'eof') refuse(`texte inattendu après la requête : « ${end.v} »`, `unexpected text after the query: '${end.v}'`);
    return st;
  }

  private show(): Statement {
    this.expectWord('show');
    const t = this.sc.next();
    if (this.isWord(t, 'measurements')) {
      // Grafana's "Save & test" sends exactly `SHOW measurements`: answered with nothing, without reading InfluxDB.
      if (this.sc.peek().t !== 'eof') refuse('SHOW MEASUREMENTS avec une clause', 'SHOW MEASUREMENTS with a clause');
      return { k: 'connectionTest' };
    }
    if (!this.isWord(t, 'tag')) refuse(`SHOW ${t.v.toUpperCase()} n'est pas une requête des tableaux de bord`, `SHOW ${t.v.toUpperCase()} is not a dashboard query`);
    this.expectWord('values');
    this.expectWord('from');
    const from = this.ident();
    if (from !== UPLINK.measurement) refuse(`les valeurs d'étiquettes se lisent dans « ${UPLINK.measurement} », pas « ${from} »`, `tag values are read from '${UPLINK.measurement}', not '${from}'`);
    this.expectWord('with');
    this.expectWord('key');
    this.expectOp('=');
    const key = this.ident();
    if (!TAG_VALUE_KEYS.has(key)) refuse(`étiquette « ${key} » : seules ${[...TAG_VALUE_KEYS].join(', ')} sont listées`, `tag '${key}': only ${[...TAG_VALUE_KEYS].join(', ')} are listed`);
    let where: Cond[] = [];
    if (this.isWord(this.sc.peek(), 'where')) {
      this.sc.next();
      where = this.conditions();
      if (where.some((c) => c.k !== 'tag' && c.k !== 'regex')) refuse('SHOW TAG VALUES ne filtre que sur des étiquettes', 'SHOW TAG VALUES filters on tags only');
    }
    return { k: 'tagValues', from, key, where };
  }

  private select(depth: number): Select {
    if (depth > MAX_DEPTH) refuse(`plus de ${MAX_DEPTH} requêtes imbriquées`, `more than ${MAX_DEPTH} nested queries`);
    this.expectWord('select');
    const fields: Select['fields'] = [];
    do {
      const expr = this.expr();
      let as: string | undefined;
      if (this.isWord(this.sc.peek(), 'as')) {
        this.sc.next();
        as = this.ident();
      }
      fields.push(as === undefined ? { expr } : { expr, as });
    } while (this.acceptOp(','));
    this.expectWord('from');
    let from: Select['from'];
    if (this.acceptOp('(')) {
      from = this.select(depth + 1);
      this.expectOp(')');
    } else {
      const first = this.ident();
      if (this.acceptOp('.')) {
        const second = this.ident();
        if (this.sc.peek().t === 'op' && this.sc.peek().v === '.') refuse('une base de données ne se nomme pas dans la requête', 'a database cannot be named in the query');
        if (!READABLE_ROLLUPS.get(first)?.has(second)) refuse(`« ${first}.${second} » n'est pas lisible par les tableaux de bord`, `'${first}.${second}' is not readable by the dashboards`);
        from = { k: 'measurement', rp: first, name: second };
      } else {
        if (!READABLE_MEASUREMENTS.has(first)) refuse(`la mesure « ${first} » n'est pas lisible par les tableaux de bord`, `measurement '${first}' is not readable by the dashboards`);
        from = { k: 'measurement', name: first };
      }
    }
    if (this.acceptOp(',')) refuse('une seule source par requête', 'one source per query');
    this.expectWord('where');
    const where = this.conditions();
    const lower = where.some((c) => c.k === 'time' && (c.op === '>=' || c.op === '>'));
    const upper = where.some((c) => c.k === 'time' && (c.op === '<=' || c.op === '<'));
    if (!lower || !upper) refuse('chaque SELECT doit être borné dans le temps ($timeFilter)', 'every SELECT must be bounded in time ($timeFilter)');
    const groupBy: Select['groupBy'] = [];
    if (this.isWord(this.sc.peek(), 'group')) {
      this.sc.next();
      this.expectWord('by');
      do {
        if (this.isWord(this.sc.peek(), 'time')) {
          this.sc.next();
          this.expectOp('(');
          const d = this.sc.next();
          if (d.t !== 'duration' || !DURATION.test(d.v)) refuse(`durée invalide dans GROUP BY time : « ${d.v} »`, `invalid GROUP BY time duration '${d.v}'`);
          this.expectOp(')');
          groupBy.push({ k: 'time', every: d.v });
        } else groupBy.push({ k: 'tag', name: this.ident() });
      } while (this.acceptOp(','));
    }
    // A bucket count Grafana never asks for (it sizes $__interval to the panel) would only load InfluxDB.
    const every = groupBy.find((g) => g.k === 'time');
    if (every?.k === 'time') {
      const bound = (ops: string[], pick: (a: number, b: number) => number) =>
        where.filter((c): c is Extract<Cond, { k: 'time' }> => c.k === 'time' && ops.includes(c.op)).map((c) => Number(c.ms.slice(0, -2))).reduce(pick);
      const span = bound(['<=', '<'], Math.min) - bound(['>=', '>'], Math.max);
      if (span / durationMs(every.every) > MAX_BUCKETS) refuse(`plus de ${MAX_BUCKETS} intervalles de temps (GROUP BY time(${every.every}))`, `more than ${MAX_BUCKETS} time buckets (GROUP BY time(${every.every}))`);
    }
    const sel: Select = { k: 'select', fields, from, where, groupBy };
    if (this.isWord(this.sc.peek(), 'fill')) {
      this.sc.next();
      this.expectOp('(');
      const f = this.sc.next();
      if (!((f.t === 'word' && FILLS.has(f.v.toLowerCase())) || (f.t === 'number' && f.v.length <= 20))) refuse(`fill(${f.v}) non accepté`, `fill(${f.v}) not accepted`);
      this.expectOp(')');
      sel.fill = f.t === 'word' ? f.v.toLowerCase() : f.v;
    }
    if (this.isWord(this.sc.peek(), 'tz')) {
      this.sc.next();
      this.expectOp('(');
      const z = this.sc.next();
      if (z.t !== 'string' || !TIME_ZONE.test(z.v)) refuse(`fuseau horaire invalide « ${z.v} »`, `invalid time zone '${z.v}'`);
      this.expectOp(')');
      sel.tz = z.v;
    }
    return sel;
  }

  /** Conditions joined by AND only (the dashboards never use OR: a query cannot widen its filter). */
  private conditions(): Cond[] {
    const out: Cond[] = [this.condition()];
    while (this.isWord(this.sc.peek(), 'and')) {
      this.sc.next();
      out.push(this.condition());
    }
    if (this.isWord(this.sc.peek(), 'or')) refuse('OR dans WHERE', 'OR in WHERE');
    return out;
  }

  private condition(): Cond {
    const t = this.sc.peek();
    if (t.t === 'op' && t.v === '(') refuse('parenthèses dans WHERE', 'parentheses in WHERE');
    const isTime = (t.t === 'word' || t.t === 'ident') && t.v.toLowerCase() === 'time';
    const name = isTime ? (this.sc.next(), 'time') : this.ident();
    const op = this.sc.next();
    if (op.t !== 'op') return refuse(`opérateur attendu après « ${name} »`, `operator expected after '${name}'`);
    if (isTime) {
      const v = this.sc.next();
      if (!['>=', '>', '<=', '<'].includes(op.v) || v.t !== 'duration' || !/^\d{1,16}ms$/.test(v.v)) refuse('la borne de temps doit être « time >= <n>ms » ou « time <= <n>ms »', "time bounds must be 'time >= <n>ms' or 'time <= <n>ms'");
      return { k: 'time', op: op.v, ms: v.v };
    }
    if (op.v === '=~' || op.v === '!~') return { k: 'regex', name, op: op.v, source: this.sc.regex() };
    const v = this.sc.next();
    if ((op.v === '=' || op.v === '!=') && v.t === 'string') {
      if (v.v.length > 256) refuse('valeur trop longue', 'value too long');
      return { k: 'tag', name, op: op.v, value: v.v };
    }
    if (['>', '<', '>=', '<='].includes(op.v) && v.t === 'number' && v.v.length <= 20) return { k: 'num', name, op: op.v, value: v.v };
    return refuse(`condition sur « ${name} » non acceptée (${op.v} ${v.v})`, `condition on '${name}' not accepted (${op.v} ${v.v})`);
  }

  // Arithmetic between aggregates and constants, as influxql.ts renders it.
  private expr(): Expr {
    let l = this.term();
    for (;;) {
      const t = this.sc.peek();
      if (t.t === 'op' && (t.v === '+' || t.v === '-')) {
        this.sc.next();
        l = { k: 'bin', op: t.v, l, r: this.term() };
      } else return l;
    }
  }

  private term(): Expr {
    let l = this.factor();
    for (;;) {
      const t = this.sc.peek();
      if (t.t === 'op' && (t.v === '*' || t.v === '/')) {
        this.sc.next();
        l = { k: 'bin', op: t.v, l, r: this.factor() };
      } else return l;
    }
  }

  private factor(): Expr {
    const t = this.sc.peek();
    if (t.t === 'op' && t.v === '*') refuse('SELECT * : nommer les champs', 'SELECT *: name the fields');
    if (t.t === 'number') {
      this.sc.next();
      if (t.v.length > 20) refuse('constante trop longue', 'constant too long');
      return { k: 'num', v: t.v };
    }
    if (this.acceptOp('(')) {
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    if (t.t === 'word' && !KEYWORDS.has(t.v.toLowerCase())) {
      const fn = t.v.toLowerCase();
      this.sc.next();
      if (!this.acceptOp('(')) return { k: 'field', name: t.v };
      if (AGGREGATES.has(fn) || fn === 'non_negative_difference') {
        const arg = this.ident();
        this.expectOp(')');
        return { k: 'call', fn, args: [{ k: 'field', name: arg }] };
      }
      if (fn === 'non_negative_derivative') {
        this.expectWord('last');
        this.expectOp('(');
        const arg = this.ident();
        this.expectOp(')');
        this.expectOp(',');
        const d = this.sc.next();
        if (d.t !== 'duration' || !DURATION.test(d.v)) refuse(`durée invalide « ${d.v} »`, `invalid duration '${d.v}'`);
        this.expectOp(')');
        return { k: 'call', fn, args: [{ k: 'call', fn: 'last', args: [{ k: 'field', name: arg }] }, { k: 'dur', v: d.v }] };
      }
      return refuse(`fonction ${fn}() non acceptée`, `function ${fn}() not accepted`);
    }
    return { k: 'field', name: this.ident() };
  }
}

/** Bare words the grammar reserves (a bare field must not be one; quoted names may be anything). */
const KEYWORDS = new Set(['select', 'from', 'where', 'and', 'or', 'group', 'by', 'fill', 'tz', 'as', 'show', 'into', 'limit', 'offset', 'slimit', 'soffset', 'order', 'drop', 'delete', 'create', 'alter', 'grant', 'revoke', 'kill', 'with', 'key', 'on']);

export function parseStatement(text: string): Statement {
  if (text.length > MAX_QUERY_LENGTH) refuse(`requête de plus de ${MAX_QUERY_LENGTH} caractères`, `query longer than ${MAX_QUERY_LENGTH} characters`);
  if (!text.trim()) refuse('requête vide', 'empty query');
  return new Parser(text).statement();
}

// ---------------------------------------------------------------------------------------------------------
// Rendering, with the communes of the key.

/** A numeric constant of the query as the builder takes it; refused when it has no plain decimal form. */
function constant(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || /e/i.test(String(n))) refuse(`constante « ${v} » non acceptée`, `constant '${v}' not accepted`);
  return n;
}

/** The parse tree in the terms of the one InfluxQL builder, which renders (and escapes) the text sent to InfluxDB. */
function toExpr(e: Expr): influxql.Expr {
  switch (e.k) {
    case 'num':
      return constant(e.v);
    case 'field':
      return { field: e.name };
    case 'bin':
      return { op: e.op as '+' | '-' | '*' | '/', left: toExpr(e.l), right: toExpr(e.r) };
    case 'call': {
      // The parser accepts f(field) for the aggregates and non_negative_difference, and non_negative_derivative(last(field), d).
      const [arg, per] = e.args;
      const fn = e.fn as influxql.Fn;
      if (arg?.k === 'field') return { fn, field: arg.name };
      if (arg?.k === 'call' && per?.k === 'dur') return { fn, of: toExpr(arg), per: per.v as influxql.Duration };
      return refuse(`fonction ${e.fn}() non acceptée`, `function ${e.fn}() not accepted`);
    }
  }
}

function toCondition(c: Cond): influxql.Condition {
  switch (c.k) {
    case 'time': {
      const ms = Number(c.ms.slice(0, -2));
      if (!Number.isSafeInteger(ms)) refuse(`borne de temps hors limites « ${c.ms} »`, `time bound out of range '${c.ms}'`);
      return { time: c.op as '>=' | '>' | '<=' | '<', at: ms };
    }
    case 'tag':
      return c.op === '=' ? { tag: c.name, equals: c.value } : { tag: c.name, notEquals: c.value };
    case 'regex':
      return c.op === '=~' ? { tag: c.name, matches: c.source } : { tag: c.name, notMatches: c.source };
    case 'num':
      return { field: c.name, compare: c.op as '>' | '<' | '>=' | '<=', value: constant(c.value) };
  }
}

/** The conditions, and the communes of the key where a measurement is read. */
function confinedWhere(conds: readonly Cond[], tenants: readonly string[] | undefined): influxql.Condition[] {
  return [...conds.map(toCondition), ...(tenants ? [{ tag: 'tenant', in: tenants }] : [])];
}

function toSelect(s: Select, tenants: readonly string[] | undefined): influxql.Select {
  const readsMeasurement = s.from.k === 'measurement';
  const every = s.groupBy.find((g) => g.k === 'time');
  return {
    select: s.fields.map((f) => ({ expr: toExpr(f.expr), ...(f.as !== undefined ? { as: f.as } : {}) })),
    // The communes are added where a measurement is read; an outer query reads only what its subquery let through.
    from: s.from.k === 'measurement' ? { measurement: s.from.name, rp: s.from.rp } : toSelect(s.from, tenants),
    where: confinedWhere(s.where, readsMeasurement ? tenants : undefined),
    ...(every?.k === 'time' ? { interval: every.every as influxql.Duration } : {}),
    groupBy: s.groupBy.flatMap((g) => (g.k === 'tag' ? [g.name] : [])),
    ...(s.fill !== undefined ? { fill: FILLS.has(s.fill) ? (s.fill as influxql.Fill) : constant(s.fill) } : {}),
    ...(s.tz !== undefined ? { tz: s.tz } : {}),
  };
}

export type Confined = { kind: 'query'; influxql: string } | { kind: 'connectionTest' };

/**
 * The statement to send to InfluxDB for a key covering `tenants` (undefined: the whole instance), or a
 * `QueryRefused` saying why not. A key that covers no commune is refused.
 */
export function confine(text: string, tenants: readonly string[] | undefined): Confined {
  if (tenants !== undefined && tenants.length === 0) throw new QueryRefused('requête refusée par Veilleur : cette clé ne couvre aucune commune (refused: this key covers no commune)');
  const st = parseStatement(text);
  if (st.k === 'connectionTest') return { kind: 'connectionTest' };
  if (st.k === 'tagValues') {
    return { kind: 'query', influxql: influxql.showTagValues({ from: st.from, key: st.key, where: confinedWhere(st.where, tenants) }) };
  }
  return { kind: 'query', influxql: influxql.select(toSelect(st, tenants)) };
}
