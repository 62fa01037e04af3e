import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_FLAGS } from '../bench/node-flags.ts';

const ROOT = join(import.meta.dirname, '..', '..');

// The memory figures of docs/performance.md hold for these flags only: production, `npm run bench` and the
// comparison harness must run the service with the same ones.
describe('node flags of the service', () => {
  it('the Dockerfile runs the bundle with the benchmark flags', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(cmd).toBeDefined();
    const args = JSON.parse(cmd!) as string[];
    expect(args.filter((a) => a.startsWith('--') && a !== '--enable-source-maps')).toEqual([...SERVICE_NODE_FLAGS]);
    expect(args.slice(-2)).toEqual(['dist/veilleur.mjs', 'serve']);
  });

  it('the comparison harness runs the bundle with the benchmark flags', () => {
    const env = readFileSync(join(ROOT, 'test', 'bench', 'harness.env'), 'utf8');
    expect(env).toContain(`exec sh infra/scripts/with-node.sh node ${SERVICE_NODE_FLAGS.join(' ')} dist/veilleur.mjs serve`);
  });
});
