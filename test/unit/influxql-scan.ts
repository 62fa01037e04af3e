/**
 * Reads the string and template literals of a TypeScript source and tells which hold InfluxQL (the check of
 * test/unit/influxql-handmade.test.ts, issue 16 item 3). Texts people read may name a keyword ("every SELECT must be
 * bounded in time"); only the shapes of a statement or of a clause count.
 */
/** Shapes of InfluxQL in one literal; `${}` stands for each interpolation of a template. */
const SHAPES: [string, RegExp][] = [
  ['SELECT … FROM', /\bSELECT\b[\s\S]*\bFROM\b/],
  ['SHOW statement', /\bSHOW\s+(TAG\s+(VALUES|KEYS)|FIELD\s+KEYS|SERIES|MEASUREMENTS?|RETENTION\s+POLICIES|DATABASES|SHARDS|CONTINUOUS\s+QUERIES|SUBSCRIPTIONS|USERS|STATS|DIAGNOSTICS|QUERIES|GRANTS)\b\s*(FROM|ON|WITH|WHERE|LIMIT|\$\{\}|$)/],
  ['CREATE/ALTER/DROP statement', /\b(CREATE|ALTER|DROP)\s+(DATABASE|RETENTION\s+POLICY|MEASUREMENT|SERIES|SHARD|CONTINUOUS\s+QUERY|USER|SUBSCRIPTION)\s+("|\$\{\}|\w+\s+ON\b)/],
  ['DELETE statement', /\bDELETE\s+(FROM|WHERE)\b/],
  ['WHERE clause', /\bWHERE\s+("|\$\{\}|\(|time\b|\$timeFilter)/],
  ['tag or field condition', /"\s*(=|!=|<>|=~|!~)\s*('|\/|\$\{\})/],
  ['time condition', /\btime\s*(>=|<=|>|<|=)\s*(\$\{\}|\d|now\(\)|')/],
  ['now() arithmetic', /(^|[^.\w])now\(\)\s*[-+]\s*(\d|\$\{\})/],
  ['OR-list', /(\)|'|\$\{\})\s+OR\s+("|\$\{\}|\()/],
  ['GROUP BY clause', /\bGROUP\s+BY\s+("|\$\{\}|\*|time\([^)\s]+\)\s*(,|fill\b|tz\b|ORDER\b|LIMIT\b|$))/],
  ['ORDER BY time', /\bORDER\s+BY\s+time\b/],
  ['fill()', /\bfill\((null|none|previous|linear|-?[\d.]+|\$\{\})\)\s*(ORDER\b|S?LIMIT\b|S?OFFSET\b|tz\(|\$\{\}|$)/],
  ['tz()', /\btz\(('|\$\{\})/],
  ['LIMIT/OFFSET', /\b(S?LIMIT|S?OFFSET)\s+(\d|\$\{\})/],
  ['AS alias', /\)\s+AS\s+("|\$\{\}|\w+\b)/],
];

/**
 * The string literals of a TypeScript source (templates with `${}` for each interpolation, their nested literals
 * too), comments left out. Regex literals are told from divisions by the token before the slash, as parsers do.
 */
export function literals(src: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let i = 0;
  let prev = ''; // the last significant token, to tell a regex from a division
  const lineAt = (at: number) => src.slice(0, at).split('\n').length;
  const regexAllowed = () => prev === '' || /[(,=:[!&|?{};+\-*%<>~^]$/.test(prev) || /^(return|typeof|case|do|else|in|of|instanceof|new|delete|void|throw|yield|await|=>)$/.test(prev);

  function quoted(q: string): string {
    const start = i;
    let text = '';
    i++;
    while (i < src.length && src[i] !== q) {
      if (src[i] === '\\') {
        text += src.slice(i, i + 2);
        i += 2;
      } else text += src[i++];
    }
    i++;
    out.push({ text, line: lineAt(start) });
    return text;
  }

  // A template: its text with `${}` for each interpolation, whose code is scanned like any other.
  function template(): void {
    const start = i;
    let text = '';
    i++;
    while (i < src.length && src[i] !== '`') {
      if (src[i] === '\\') {
        text += src.slice(i, i + 2);
        i += 2;
      } else if (src[i] === '$' && src[i + 1] === '{') {
        i += 2;
        text += '${}';
        code('}');
        i++;
      } else text += src[i++];
    }
    i++;
    out.push({ text, line: lineAt(start) });
  }

  function regex(): void {
    i++;
    let inClass = false;
    while (i < src.length && src[i] !== '\n') {
      const c = src[i];
      if (c === '/' && !inClass) break;
      if (c === '[') inClass = true;
      if (c === ']') inClass = false;
      i += c === '\\' ? 2 : 1;
    }
    i++;
    while (/[a-z]/.test(src[i] ?? '')) i++;
  }

  // Code up to `end` (a `}` closing an interpolation, at depth 0) or the end of the source.
  function code(end?: string): void {
    let depth = 0;
    while (i < src.length) {
      const c = src[i]!;
      const n = src[i + 1];
      if (c === '/' && n === '/') {
        while (i < src.length && src[i] !== '\n') i++;
      } else if (c === '/' && n === '*') {
        const close = src.indexOf('*/', i + 2);
        i = close < 0 ? src.length : close + 2;
      } else if (c === "'" || c === '"') {
        quoted(c);
        prev = 'literal';
      } else if (c === '`') {
        template();
        prev = 'literal';
      } else if (c === '/') {
        if (regexAllowed()) {
          regex();
          prev = 'literal';
        } else {
          i++;
          prev = '/';
        }
      } else if (/\s/.test(c)) i++;
      else if (/[A-Za-z_$]/.test(c)) {
        const word = /^[A-Za-z_$][\w$]*/.exec(src.slice(i, i + 64))![0];
        i += word.length;
        prev = word;
      } else if (/\d/.test(c)) {
        while (/[\w.]/.test(src[i] ?? '')) i++;
        prev = '0';
      } else {
        if (c === '{') depth++;
        if (c === '}') {
          if (depth === 0 && end === '}') return;
          depth--;
        }
        prev = c === '=' && n === '>' ? '=>' : c;
        i += c === '=' && n === '>' ? 2 : 1;
      }
    }
  }

  code();
  return out;
}

/** Literals of one source holding InfluxQL: `line: shape: text`. */
export function handmadeInfluxQL(src: string): string[] {
  return literals(src).flatMap(({ text, line }) => SHAPES.filter(([, re]) => re.test(text)).map(([shape]) => `${line}: ${shape}: ${text.slice(0, 120)}`));
}
