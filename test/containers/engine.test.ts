/** The Docker engine probe says precisely why the container suites cannot run, here where no engine answers. */
import { afterEach, describe, expect, it } from 'vitest';
import { dockerEngine } from './engine.ts';

const saved = process.env.DOCKER_HOST;
afterEach(() => {
  if (saved === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved;
});

describe('the Docker engine probe', () => {
  it('names the address that does not answer', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/veilleur-docker.sock';
    const engine = await dockerEngine();
    expect(engine.ok).toBe(false);
    const reason = engine.ok ? '' : engine.reason;
    if (Number(process.versions.node.split('.')[0]) < 22) expect(reason).toMatch(/^testcontainers does not load on Node v\d+/);
    else expect(reason).toMatch(/^no Docker engine: DOCKER_HOST=unix:\/\/\/nonexistent\/veilleur-docker\.sock does not answer.*Testcontainers: /);
  });
});
