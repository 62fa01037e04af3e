/**
 * Sign-in (an API key pasted once becomes a server-side session), sign-out (the session ends on the server, so the
 * old cookie is worthless), and the language switch. Failed sign-ins are throttled per client address and logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../html.ts';
import { MESSAGES } from '../i18n/index.ts';
import { barePage, notice } from '../layout.ts';
import { LANG_COOKIE, langOf, sameOrigin, sendPage, SESSION_COOKIE, type ConsoleDeps } from '../page.ts';

/** Where to go after sign-in: a path of this console only (never another site: no open redirect). */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2000) return '/';
  if (value.startsWith('/connexion') || value.startsWith('/deconnexion')) return '/';
  return value;
}

const secure = (req: FastifyRequest) => req.protocol === 'https';

function signInForm(req: FastifyRequest, reply: FastifyReply, deps: ConsoleDeps, status: number, message?: { kind: 'error' | 'info'; text: string }, after?: Html) {
  const lang = langOf(req);
  const t = MESSAGES[lang];
  const q = req.query as Record<string, string | undefined>;
  const next = safeNext(q.suite ?? (req.body as Record<string, unknown> | undefined)?.suite);
  const providers = deps.oidc?.providers() ?? [];
  const keys = deps.oidc?.keysInConsole ?? true;
  // One link per identity provider (a GET: the CSP's form-action would stop a form redirected to the provider).
  const sso = providers.length
    ? html`${keys ? html`<h2>${t.sso.heading}</h2>` : ''}<p>${t.sso.intro}</p>
<ul class="sso-providers">${providers.map((p) => html`<li><a class="button" href="/connexion/oidc/${p.id}${next === '/' ? '' : `?suite=${encodeURIComponent(next)}`}">${t.sso.button(p.label)}</a></li>`)}</ul>`
    : '';
  if (!keys) return sendPage(reply, status, barePage({ lang, url: req.url, t }, t.signIn.title, html`${message ? notice(message.kind, message.text) : ''}${after ?? ''}${sso}`));
  const content = html`${message ? notice(message.kind, message.text) : ''}${after ?? ''}
${sso}${providers.length ? html`<h2>${t.sso.keyHeading}</h2>` : ''}
<p>${t.signIn.intro}</p>
<form method="post" action="/connexion" class="stack">
  <input type="hidden" name="suite" value="${next}">
  <label for="cle">${t.signIn.keyLabel}</label>
  <p class="hint" id="cle-aide">${t.signIn.keyHint}</p>
  <input id="cle" name="cle" type="password" autocomplete="off" spellcheck="false" required aria-describedby="cle-aide"${message?.kind === 'error' ? html` aria-invalid="true"` : ''}${providers.length ? '' : html` autofocus`}>
  <button type="submit">${t.signIn.submit}</button>
</form>`;
  return sendPage(reply, status, barePage({ lang, url: req.url, t }, t.signIn.title, content));
}

export function signInPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const cookieBase = (req: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict' as const, secure: secure(req) });

  app.get('/connexion', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const t = MESSAGES[langOf(req)];
    const message = q.fin === 'deconnecte' ? { kind: 'info' as const, text: t.signIn.signedOut } : q.fin ? { kind: 'info' as const, text: t.signIn.expired } : undefined;
    // Signed out of a single sign-on session: the provider's own session may end too, if the person wishes.
    const provider = q.fin === 'deconnecte' && q.sso ? deps.oidc?.provider(q.sso) : undefined;
    const end = provider ? await deps.oidc!.endSessionUrl(provider.id) : undefined;
    return signInForm(req, reply, deps, 200, message, end ? html`<p><a href="${end.href}">${t.sso.alsoProvider(provider!.label)}</a></p>` : undefined);
  });

  app.post('/connexion', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const t = MESSAGES[langOf(req)];
    const wait = deps.signInFailures.retryAfterMs(req.ip);
    if (wait > 0) {
      req.log.warn({ ip: req.ip }, 'console sign-in refused: too many failures from this address');
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return signInForm(req, reply, deps, 429, { kind: 'error', text: t.signIn.tooMany(Math.ceil(wait / 60_000)) });
    }
    if (deps.oidc && !deps.oidc.keysInConsole) return signInForm(req, reply, deps, 403, { kind: 'error', text: t.sso.keysDisabled });
    const body = (req.body ?? {}) as Record<string, unknown>;
    const key = typeof body.cle === 'string' ? body.cle.trim() : '';
    const principal = sameOrigin(req) ? deps.api.keys.authenticate(key) : undefined;
    if (!principal) {
      deps.signInFailures.fail(req.ip);
      req.log.warn({ ip: req.ip, presented: key !== '' }, 'console sign-in refused: key not valid');
      deps.api.audit?.ofRequest(req, undefined, { action: 'console.sign-in', outcome: 'refused', source: 'console', presentedKey: key, detail: 'key not valid' });
      return signInForm(req, reply, deps, 401, { kind: 'error', text: t.signIn.invalid });
    }
    deps.signInFailures.succeed(req.ip);
    const { id, stored } = deps.sessions.create(principal.keyId, langOf(req));
    await stored; // cluster mode: the next request may reach another replica
    req.log.warn({ ip: req.ip, keyId: principal.keyId }, 'console sign-in');
    deps.api.audit?.ofRequest(req, principal, { action: 'console.sign-in', source: 'console' });
    reply.setCookie(SESSION_COOKIE, id, { ...cookieBase(req), maxAge: 12 * 3600 });
    return reply.code(303).redirect(safeNext(body.suite));
  });

  app.post('/deconnexion', { config: { console: true }, schema: { hide: true } }, async (req, reply) => {
    await deps.sessions.end(req.cookies[SESSION_COOKIE]);
    req.log.warn({ ip: req.ip, keyId: req.principal?.keyId }, 'console sign-out');
    deps.api.audit?.ofRequest(req, req.principal, { action: 'console.sign-out', source: 'console' });
    reply.clearCookie(SESSION_COOKIE, cookieBase(req));
    const person = req.principal?.person;
    return reply.code(303).redirect(`/connexion?fin=deconnecte${person ? `&sso=${encodeURIComponent(person.provider)}` : ''}`);
  });

  // A preference, not an action: a plain link works everywhere, and it changes nothing but the language.
  app.get('/langue/:lang', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const lang = (req.params as { lang: string }).lang === 'en' ? 'en' : 'fr';
    reply.setCookie(LANG_COOKIE, lang, { ...cookieBase(req), maxAge: 365 * 86_400 });
    deps.sessions.setLang(req.cookies[SESSION_COOKIE], lang);
    return reply.code(303).redirect(safeNext((req.query as Record<string, unknown>).suite));
  });
}
