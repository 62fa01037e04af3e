/**
 * The console through the service's own HTTP stack for route tests: cookies, the API (its auth hook) and the console
 * plugin on one Fastify instance with the deps a test gives (usually an InfluxDB stand-in), and a sign-in as a
 * person would do it.
 */
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerApi } from '../../services/api/app.ts';
import type { ApiDeps } from '../../services/api/deps.ts';
import { createConsole } from '../../services/console/plugin.ts';

export async function consoleApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(cookie);
  const webConsole = createConsole(deps);
  await registerApi(app, deps, webConsole.auth);
  await app.register(webConsole.plugin);
  await app.ready();
  return app;
}

/** Signs in with a key through the sign-in form; returns the session cookie (`veilleur_session=…`). */
export async function signIn(app: FastifyInstance, key: { key: string }): Promise<string> {
  const r = await app.inject({ method: 'POST', url: '/connexion', payload: `cle=${encodeURIComponent(key.key)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const set = [r.headers['set-cookie']].flat().find((c) => c?.startsWith('veilleur_session='));
  if (!set) throw new Error(`no session cookie: ${r.statusCode} ${r.body.slice(0, 200)}`);
  return set.split(';')[0]!;
}

export const page = (app: FastifyInstance, url: string, session: string) => app.inject({ url, headers: { cookie: session } });
