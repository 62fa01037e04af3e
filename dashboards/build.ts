/**
 * Writes every dashboard in every language to infra/grafana/dashboards/<name>.<lang>.json (mounted into Grafana by
 * docker-compose, provisioned in every organisation by `veilleur grafana provision`: docs/grafana.md). The JSON is
 * deterministic: keys sorted, two-space indent, trailing newline, so running it twice gives the same bytes.
 *
 *   node --import tsx dashboards/build.ts            # write
 *   node --import tsx dashboards/build.ts --check    # exit 1 when the committed JSON is stale
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LANGS } from './i18n.ts';
import { DASHBOARDS } from './index.ts';

export const OUTPUT_DIR = resolve(import.meta.dirname, '..', 'infra', 'grafana', 'dashboards');

/** JSON with keys sorted at every level (functions and undefined dropped, as JSON.stringify does). */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, sort(o[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(JSON.parse(JSON.stringify(value))), null, 2)}\n`;
}

/** File name → content, for every dashboard and language. */
export function generate(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of DASHBOARDS) for (const lang of LANGS) files.set(`${d.name}.${lang}.json`, stableJson(d.build(lang)));
  return files;
}

/** Files whose content on disk differs from the generator's (missing ones included). */
export function staleFiles(dir = OUTPUT_DIR): string[] {
  return [...generate()].filter(([name, content]) => {
    const path = join(dir, name);
    return !existsSync(path) || readFileSync(path, 'utf8') !== content;
  }).map(([name]) => name);
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`stale dashboards (run 'node --import tsx dashboards/build.ts'): ${stale.join(', ')}`);
      return 1;
    }
    console.log(`dashboards up to date (${generate().size} files)`);
    return 0;
  }
  for (const [name, content] of generate()) writeFileSync(join(OUTPUT_DIR, name), content);
  console.log(`wrote ${generate().size} dashboards to ${relative(process.cwd(), OUTPUT_DIR) || '.'}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
