/**
 * Single sign-on routes: `/connexion/oidc/{provider}` sends the browser to the identity provider, and
 * `/connexion/oidc/{provider}/retour` checks its answer (oidc.ts), maps the person's claim to communes and a role
 * (oidc-config.ts) and opens a session that holds the person's principal until the ID token expires. A person whose
 * claims map to nothing is refused with a page saying what to ask for; every refusal is logged and audited, and a
 * callback that does not check out counts in the per-address budget of failed authentications.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../api/keys.ts';
import { html } from '../html.ts';
import { MESSAGES } from '../i18n/index.ts';
import { barePage, notice } from '../layout.ts';
import { grantOf, personName } from '../oidc-config.ts';
import { LOGIN_COOKIE, LOGIN_TTL_MS, OidcError, type OidcLogins } from '../oidc.ts';
import { langOf, sendPage, SESSION_COOKIE, type ConsoleDeps } from '../page.ts';
import { safeNext } from './signin.ts';

const secure = (req: FastifyRequest) => req.protocol === 'https';

/** `oidc:<provider>:<subject>`: the key id of a person in logs and the audit trail. */
export const personId = (provider: string, subject: string) => `oidc:${provider}:${subject}`;

export function oidcPages(app: FastifyInstance, deps: ConsoleDeps, oidc: OidcLogins): void {
  const loginCookie = (req: FastifyRequest) => ({ path: '/connexion/oidc', httpOnly: true, sameSite: 'lax' as const, secure: secure(req) });

  const page = (req: FastifyRequest, reply: FastifyReply, status: number, title: string, text: string, lang = langOf(req)) => {
    const t = MESSAGES[lang];
    return sendPage(reply, status, barePage({ lang, url: '/connexion', t }, title, html`${notice(status >= 400 ? 'error' : 'info', text)}<p><a href="/connexion">${t.sso.backToSignIn}</a></p>`));
  };

  const throttled = (req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    const wait = deps.signInFailures.retryAfterMs(req.ip);
    if (wait <= 0) return undefined;
    req.log.warn({ ip: req.ip }, 'console sign-in refused: too many failures from this address');
    reply.header('retry-after', String(Math.ceil(wait / 1000)));
    const t = MESSAGES[langOf(req)];
    return page(req, reply, 429, t.errors.tooManyTitle, t.signIn.tooMany(Math.ceil(wait / 60_000)));
  };

  app.get('/connexion/oidc/:provider', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const t = MESSAGES[langOf(req)];
    const providerId = (req.params as { provider: string }).provider;
    const provider = oidc.provider(providerId);
    if (!provider) return page(req, reply, 404, t.errors.notFoundTitle, t.sso.unknownProvider);
    const refused = throttled(req, reply);
    if (refused) return refused;
    try {
      const { loginId, url } = await oidc.start(providerId, safeNext((req.query as Record<string, unknown>).suite), langOf(req));
      reply.setCookie(LOGIN_COOKIE, loginId, { ...loginCookie(req), maxAge: LOGIN_TTL_MS / 1000 });
      return reply.code(303).header('cache-control', 'no-store').redirect(url.href);
    } catch (err) {
      req.log.error({ provider: providerId, err: (err as Error).message }, 'single sign-on: identity provider unavailable');
      return page(req, reply, 503, t.sso.unavailableTitle, t.sso.unavailable(provider.label));
    }
  });

  app.get('/connexion/oidc/:provider/retour', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const t = MESSAGES[langOf(req)];
    const providerId = (req.params as { provider: string }).provider;
    const provider = oidc.provider(providerId);
    if (!provider) return page(req, reply, 404, t.errors.notFoundTitle, t.sso.unknownProvider);
    const refused = throttled(req, reply);
    if (refused) return refused;
    const login = await oidc.take(req.cookies[LOGIN_COOKIE], providerId);
    reply.clearCookie(LOGIN_COOKIE, loginCookie(req));

    // The language cookie is SameSite=Strict, so absent on the provider's redirect: the login remembers it.
    const lang = login?.lang ?? langOf(req);
    const tl = MESSAGES[lang];
    const refuse = (reason: string, who?: { keyId: string; name: string }) => {
      req.log.warn({ ip: req.ip, provider: providerId, keyId: who?.keyId, reason }, 'console sign-in refused: single sign-on');
      deps.api.audit?.ofRequest(req, who ? { ...who, tenants: undefined } : undefined, { action: 'console.sign-in', outcome: 'refused', source: 'console', detail: `single sign-on ${providerId}: ${reason}` });
    };

    const q = req.query as Record<string, unknown>;
    if (typeof q.error === 'string' && login && q.state === login.state) {
      // The provider's own answer (the person cancelled, or the provider refused): not a forged callback.
      refuse(`the provider answered ${q.error.slice(0, 100)}`);
      return page(req, reply, 401, tl.sso.failedTitle, tl.sso.cancelled(provider.label), lang);
    }
    if (!login) {
      deps.signInFailures.fail(req.ip);
      refuse('no pending sign-in for this browser (cookie missing, expired, already used or of another provider)');
      return page(req, reply, 400, tl.sso.failedTitle, tl.sso.failed, lang);
    }
    let person;
    try {
      person = await oidc.finish(login, new URL(req.url, 'http://callback.invalid'));
    } catch (err) {
      const e = err as Error;
      if (err instanceof OidcError && err.kind === 'unavailable') {
        req.log.error({ provider: providerId, err: e.message }, 'single sign-on: identity provider unavailable');
        return page(req, reply, 503, tl.sso.unavailableTitle, tl.sso.unavailable(provider.label), lang);
      }
      deps.signInFailures.fail(req.ip);
      refuse(`callback refused: ${e.message.slice(0, 300)}`);
      return page(req, reply, 400, tl.sso.failedTitle, tl.sso.failed, lang);
    }

    const name = personName(person.claims) || person.subject;
    const keyId = personId(providerId, person.subject);
    const grant = grantOf(provider, person.claims);
    deps.signInFailures.succeed(req.ip);
    if (!grant) {
      refuse(`no entry of its map matches the claim '${provider.claim}'`, { keyId, name });
      return page(req, reply, 403, tl.sso.refusedTitle, tl.sso.refused(name, provider.label), lang);
    }
    const email = typeof person.claims.email === 'string' ? person.claims.email : undefined;
    const principal: Principal = {
      keyId,
      name,
      role: grant.role,
      tenants: grant.tenants ? new Set(grant.tenants) : undefined,
      person: { provider: providerId, subject: person.subject, ...(email ? { email } : {}) },
    };
    const now = Date.now();
    const { id, stored } = deps.sessions.create(keyId, login.lang, now, { principal, expiresAt: person.expiresAt });
    await stored; // cluster mode: the next request may reach another replica
    req.log.warn({ ip: req.ip, keyId, provider: providerId, role: grant.role, tenants: grant.tenants ?? ['*'] }, 'console sign-in');
    deps.api.audit?.ofRequest(req, principal, { action: 'console.sign-in', source: 'console', detail: `single sign-on ${providerId}: ${provider.claim} ${grant.value} → ${grant.role}` });
    const lifetime = Math.max(1, Math.floor(Math.min(person.expiresAt - now, deps.sessions.absoluteMs) / 1000));
    reply.setCookie(SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(req), maxAge: lifetime });
    // A page rather than a redirect: this answer ends a navigation that came from the provider's site, and browsers
    // do not send a SameSite=Strict cookie along a redirect chain that started elsewhere. The refresh starts a new
    // navigation from this origin, which carries the session cookie.
    const content = html`${notice('ok', tl.sso.done(name))}<p><a href="${login.next}">${tl.sso.continue}</a></p>`;
    const refresh = html`<meta charset="utf-8">\n<meta http-equiv="refresh" content="0;url=${login.next}">`.value;
    const body = barePage({ lang, url: login.next, t: tl }, tl.sso.doneTitle, content).value.replace('<meta charset="utf-8">', () => refresh);
    return reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  });
}
