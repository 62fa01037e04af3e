/**
 * The console's static files, read once at start-up and served from memory: our stylesheet and script, and uPlot
 * (the time-series library Grafana uses) from its npm package. Nothing comes from a CDN: the console works on a
 * closed municipal network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
// Beside this module in the sources; in dist/console-assets for the bundle (npm run build copies them there).
const here = [join(import.meta.dirname, 'assets'), join(import.meta.dirname, 'console-assets')].find((d) => existsSync(join(d, 'console.css'))) ?? join(import.meta.dirname, 'assets');
const uplotDir = join(require.resolve('uplot'), '..');

const FILES: Record<string, { path: string; type: string }> = {
  'console.css': { path: join(here, 'console.css'), type: 'text/css; charset=utf-8' },
  'console.js': { path: join(here, 'console.js'), type: 'text/javascript; charset=utf-8' },
  'favicon.svg': { path: join(here, 'favicon.svg'), type: 'image/svg+xml' },
  'uPlot.iife.min.js': { path: join(uplotDir, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: join(uplotDir, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function registerAssets(app: FastifyInstance): void {
  const loaded = new Map(Object.entries(FILES).map(([name, f]) => [name, { body: readFileSync(f.path), type: f.type }]));
  app.get('/assets/:file', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const file = loaded.get((req.params as { file: string }).file);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    // Assets change with the service version only: a day of caching, revalidated after.
    return reply.type(file.type).header('cache-control', 'public, max-age=86400').send(file.body);
  });
}
