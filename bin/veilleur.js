#!/usr/bin/env node
// A source checkout (`npm ci`, `npm run demo`, `npx veilleur …`) has the dev dependencies: the TypeScript sources
// run directly through tsx, with no build output to keep in sync. A production install (`npm ci --omit=dev`, the
// Docker image) has no tsx: it runs the bundle `npm run build` made (dist/veilleur.mjs), so tsx and esbuild stay
// out of the production dependencies.
import { existsSync } from 'node:fs';

let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
}
if (tsx) {
  tsx.register();
  await import('../services/cli/main.ts');
} else {
  const bundle = new URL('../dist/veilleur.mjs', import.meta.url);
  if (!existsSync(bundle)) {
    process.stderr.write('veilleur: neither tsx (a dev dependency: npm ci) nor the bundle dist/veilleur.mjs (npm run build) is here\n');
    process.exit(2);
  }
  await import(bundle.href);
}
