/**
 * What every console page uses: its dependencies, the cookies' names, the reader's language, the same-origin check
 * and the one way to send a page. Apart from plugin.ts, which registers the pages, so that pages import this and
 * the plugin imports the pages, with no cycle between them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../api/deps.ts';
import type { FixedWindow } from '../api/throttle.ts';
import type { DisplayNames, Lang } from '../registry/names.ts';
import type { OidcLogins } from './oidc.ts';
import type { SessionStore } from './session.ts';

export const SESSION_COOKIE = 'veilleur_session';
export const LANG_COOKIE = 'veilleur_lang';

export interface ConsoleDeps {
  api: ApiDeps;
  sessions: SessionStore;
  names: DisplayNames;
  /** Failed sign-ins count in the API's per-address budget of failed authentications (services/api/throttle.ts). */
  signInFailures: Pick<FixedWindow, 'retryAfterMs' | 'fail' | 'succeed'>;
  /** Single sign-on (OpenID Connect), when the configuration has an `oidc:` section. */
  oidc?: OidcLogins | undefined;
}

/** A console page module: adds its routes (each with `config: { console: true }`). */
export type ConsolePages = (app: FastifyInstance, deps: ConsoleDeps) => void;

export function langOf(req: FastifyRequest): Lang {
  const c = req.cookies?.[LANG_COOKIE];
  return c === 'en' ? 'en' : 'fr';
}

export function sendPage(reply: FastifyReply, status: number, body: { value: string }): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body.value);
}

/** Same-origin check for state-changing forms (with SameSite=Strict cookies and the CSRF token: defence in depth). */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin ?? req.headers.referer;
  // Some privacy settings drop both; the CSRF token and the SameSite=Strict cookie still protect the form.
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
