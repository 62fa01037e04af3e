/**
 * The web console, served by the service itself on the API's port: server-rendered pages in French (English on
 * request), a little JavaScript for the charts. Sign-in turns an API key into a server-side session; every page and
 * form is a route with `config: { console: true, role }`, so the API's auth hook applies the same permission
 * model to both. State-changing forms carry the session's CSRF token and must come from this origin.
 */
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleAuth } from '../api/auth.ts';
import type { ApiDeps } from '../api/deps.ts';
import { ApiError } from '../api/scope.ts';
import { requestThrottle } from '../api/throttle.ts';
import { displayNames } from '../registry/names.ts';
import { registerAssets } from './assets.ts';
import { buildContext } from './context.ts';
import { html } from './html.ts';
import { MESSAGES } from './i18n/index.ts';
import { barePage, layout } from './layout.ts';
import { langOf, sameOrigin, sendPage, SESSION_COOKIE, type ConsoleDeps } from './page.ts';
import { alertPages } from './pages/alerts.ts';
import { devicePages } from './pages/device.ts';
import { fleetPages } from './pages/fleet.ts';
import { reportPages } from './pages/reports.ts';
import { retentionPages } from './pages/retention.ts';
import { sitePages } from './pages/sites.ts';
import { signInPages } from './pages/signin.ts';
import { oidcPages } from './pages/oidc.ts';
import { OidcLogins } from './oidc.ts';
import type { OidcConfig } from './oidc-config.ts';
import type { SharedLoginRecords } from './oidc.ts';
import { SessionStore, csrfMatches } from './session.ts';

/**
 * The console over the API's dependencies; `oidc`: the configuration's single sign-on section (the API never reads it);
 * `sessions` and `oidcLogins` (single sign-on logins in progress): shared by the replicas in cluster mode (in this
 * process's memory otherwise).
 */
export function createConsole(api: ApiDeps, opts: { oidc?: OidcConfig | undefined; sessions?: SessionStore | undefined; oidcLogins?: SharedLoginRecords | undefined } = {}): { auth: ConsoleAuth; plugin: FastifyPluginAsync } {
  const deps: ConsoleDeps = {
    api,
    sessions: opts.sessions ?? new SessionStore(),
    names: displayNames(api.registry),
    signInFailures: requestThrottle(api).authFailures,
    // Secrets and key files are read now: a missing one stops the start-up, naming its path in the configuration.
    oidc: opts.oidc ? new OidcLogins(opts.oidc, { shared: opts.oidcLogins }) : undefined,
  };

  const errorPage = (req: FastifyRequest, reply: FastifyReply, status: number) => {
    const lang = req.consoleSession?.lang ?? langOf(req);
    const t = MESSAGES[lang];
    const [title, text] =
      status === 403
        ? [t.errors.forbiddenTitle, t.errors.forbidden]
        : status === 404
          ? [t.errors.notFoundTitle, t.errors.notFound]
          : status === 400
            ? [t.errors.badRequestTitle, t.errors.notFound]
            : status === 429
              ? [t.errors.tooManyTitle, t.errors.tooMany]
              : status === 503
                ? [t.errors.busyTitle, t.errors.busy]
                : [t.errors.serverTitle, t.errors.server];
    const content = html`<p>${text}</p><p><a href="/">${t.errors.backHome}</a></p>`;
    const page = req.page ? layout(req.page, { title, section: undefined, content }) : barePage({ lang, url: req.url, t }, title, content);
    return sendPage(reply, status, page);
  };

  const auth: ConsoleAuth = {
    async principal(req) {
      // Cluster mode: a session another replica started is read from NATS the first time this one sees it.
      const session = await deps.sessions.lookup(req.cookies?.[SESSION_COOKIE]);
      if (!session) return undefined;
      // A person's session carries its own principal (bounded by the ID token); a key's is rebuilt from the ring.
      const principal = session.person ? session.person.principal : api.keys.principalById(session.keyId);
      if (!principal) return undefined;
      req.consoleSession = session;
      return principal;
    },
    refuse(req, reply, err) {
      if (err.statusCode === 401) {
        const suite = req.method === 'GET' ? `?suite=${encodeURIComponent(req.url)}` : '';
        const had = req.cookies?.[SESSION_COOKIE] ? (suite ? '&' : '?') + 'fin=1' : '';
        return reply.code(303).header('cache-control', 'no-store').redirect(`/connexion${suite}${had}`);
      }
      return errorPage(req, reply, err.statusCode);
    },
  };

  const plugin: FastifyPluginAsync = async (app) => {
    await app.register(formbody, { bodyLimit: 16 * 1024 });
    app.decorateRequest('consoleSession', undefined);
    app.decorateRequest('page', undefined);
    registerAssets(app);

    app.addHook('preHandler', async (req, reply) => {
      if (req.routeOptions.config.console !== true || !req.consoleSession || !req.principal) return;
      req.page = buildContext(req, req.consoleSession, deps.names);
      if (req.method === 'POST') {
        const token = (req.body as Record<string, unknown> | undefined)?._csrf;
        if (!sameOrigin(req) || !csrfMatches(req.consoleSession, token)) {
          req.log.warn({ url: req.routeOptions.url, ip: req.ip, keyId: req.principal.keyId }, 'console form refused: CSRF token or origin');
          const t = req.page.t;
          return sendPage(reply, 403, layout(req.page, { title: t.errors.csrfTitle, section: undefined, content: html`<p>${t.errors.csrf}</p><p><a href="/">${t.errors.backHome}</a></p>` }));
        }
      }
    });

    app.setErrorHandler((err: FastifyError, req, reply) => {
      const status = err instanceof ApiError ? err.statusCode : typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) req.log.error({ err: err.message, url: req.routeOptions.url }, 'console page failed');
      return errorPage(req, reply, status === 401 ? 403 : status);
    });

    signInPages(app, deps);
    if (deps.oidc) oidcPages(app, deps, deps.oidc);
    alertPages(app, deps);
    sitePages(app, deps);
    devicePages(app, deps);
    fleetPages(app, deps);
    reportPages(app, deps);
    retentionPages(app, deps);
  };

  return { auth, plugin };
}
